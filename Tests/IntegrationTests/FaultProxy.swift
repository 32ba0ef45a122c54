import Foundation
import PGClient

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP proxy on 127.0.0.1 between the bridge and a server that breaks connections on demand: resets them
/// (RST, through SO_LINGER 0), drops them (an orderly close), stalls every byte for a while, or resets them and
/// refuses new ones for a while; `randomFaults` does all of these at random from a seeded generator.
///
/// One thread owns every socket: it accepts, forwards with non-blocking reads and writes, and carries out
/// the faults that the other methods queue (within about 10 ms).
final class FaultProxy: @unchecked Sendable {
    /// What the proxy can do to its connections.
    enum Fault: Sendable, CustomStringConvertible {
        /// Close both sides of every connection with SO_LINGER 0: each peer gets an RST.
        case reset
        /// Close both sides of every connection in order: each peer reads end of file.
        case drop
        /// Forward no byte in either direction (nor answer new connections) for this long.
        case stall(Duration)
        /// Reset every open connection, and every new one as it arrives for this long: a server that is down.
        case refuse(Duration)

        var description: String {
            switch self {
            case .reset: return "reset"
            case .drop: return "drop"
            case .stall(let time): return "stall \(time.milliseconds) ms"
            case .refuse(let time): return "refuse \(time.milliseconds) ms"
            }
        }
    }

    /// One fault that `randomFaults` caused: when (since it began), what, and how many connections it hit.
    struct Injected: Sendable, CustomStringConvertible {
        var at: Duration
        var fault: Fault
        var connections: Int

        var description: String { "\(at.milliseconds) ms: \(fault) (\(connections) connections)" }
    }

    /// The port the proxy listens on, on 127.0.0.1.
    let port: Int
    private let upstream: sockaddr_in
    private let upstreamName: String
    private let listener: Int32
    private let lock = NSLock()
    private let finished = DispatchSemaphore(value: 0)
    // Guarded by `lock`.
    private var pending: [Fault] = []
    private var stalledUntil = ContinuousClock.now
    private var refusingUntil = ContinuousClock.now
    private var stopping = false
    private var openLinks = 0
    private var accepted = 0
    private var upstreamFailures = 0

    /// A proxy to `host:port` (an IPv4 address or `localhost`), listening on a free port.
    init(host: String, port upstreamPort: Int) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(upstreamPort).bigEndian)
        guard inet_pton(AF_INET, host == "localhost" ? "127.0.0.1" : host, &address.sin_addr) == 1 else {
            throw ProxyError("not an IPv4 address: \(host)")
        }
        upstream = address
        upstreamName = "\(host):\(upstreamPort)"

        let fd = socket(AF_INET, Self.streamType, 0)
        guard fd >= 0 else { throw ProxyError("socket: errno \(errno)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var local = sockaddr_in()
        local.sin_family = sa_family_t(AF_INET)
        local.sin_port = 0
        local.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 128) == 0 else {
            let code = errno
            closeDescriptor(fd)
            throw ProxyError("bind/listen on 127.0.0.1: errno \(code)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = Int(UInt16(bigEndian: local.sin_port))
        listener = fd
        Self.setNonBlocking(fd)
        let thread = Thread { [self] in loop() }
        thread.name = "fault proxy :\(port) → \(upstreamName)"
        thread.start()
    }

    /// A proxy to the server of `connection` (its `host` and `port`).
    convenience init(to connection: ConnectionString) throws {
        try self.init(host: connection["host"] ?? "127.0.0.1", port: Int(connection["port"] ?? "5432") ?? 5432)
    }

    /// `connection` pointed at this proxy instead of its server.
    func route(_ connection: ConnectionString) throws -> ConnectionString {
        try ConnectionString(connection.raw + " host=127.0.0.1 port=\(port)")
    }

    /// Stops the proxy: every connection is closed and the port is freed. Waits for the proxy's thread, which
    /// keeps the proxy alive until then: call it once the proxy is no longer needed.
    func stop() {
        let first = lock.withLock {
            defer { stopping = true }
            return !stopping
        }
        if first { finished.wait() }
    }

    /// Connections open now.
    var connectionCount: Int { lock.withLock { openLinks } }

    /// Connections accepted so far, and how many of them could not reach the server.
    var counts: (accepted: Int, upstreamFailures: Int) { lock.withLock { (accepted, upstreamFailures) } }

    /// Resets every open connection now (RST to both peers); returns how many were open.
    @discardableResult
    func resetAll() -> Int { inject(.reset) }

    /// Closes every open connection now (end of file to both peers); returns how many were open.
    @discardableResult
    func dropAll() -> Int { inject(.drop) }

    /// Stops forwarding bytes, in both directions and for every connection, for `time`.
    @discardableResult
    func stall(for time: Duration) -> Int { inject(.stall(time)) }

    /// Resets every open connection now, and each new one as it arrives for `time`.
    @discardableResult
    func refuse(for time: Duration) -> Int { inject(.refuse(time)) }

    /// Queues `fault` for the proxy's thread; returns the connections open when it was asked for.
    @discardableResult
    func inject(_ fault: Fault) -> Int {
        lock.withLock {
            switch fault {
            case .reset, .drop: pending.append(fault)
            case .stall(let time): stalledUntil = max(stalledUntil, .now + time)
            case .refuse(let time):
                pending.append(.reset)
                refusingUntil = max(refusingUntil, .now + time)
            }
            return openLinks
        }
    }

    /// Up to `count` faults at random moments within `duration`, each one of reset, drop, stall or refuse (stalls and
    /// refusals last up to `longest`), drawn from `generator`. Two in three resets, drops and stalls first wait (up to
    /// 3 s) until `ready` says the client is at work (by default: a connection is open), so that a client backing off
    /// does not soak them all up; then each fault comes after a pause drawn from `gap` (ms). Returns what it did; stops
    /// early when cancelled.
    func randomFaults(
        count: Int, within duration: Duration, gap: ClosedRange<Int> = 200...1_200, longest: Duration = .seconds(2),
        ready: (@Sendable () async -> Bool)? = nil, using generator: inout some RandomNumberGenerator
    ) async -> [Injected] {
        let ready = ready ?? { [self] in connectionCount > 0 }
        let started = ContinuousClock.now
        var injected: [Injected] = []
        let longestMs = max(1, Int(longest.milliseconds))
        while injected.count < count, !Task.isCancelled {
            let fault: Fault
            switch Int.random(in: 0..<10, using: &generator) {
            case 0..<4: fault = .reset
            case 4..<6: fault = .drop
            case 6..<9: fault = .stall(.milliseconds(Int.random(in: 50...longestMs, using: &generator)))
            default: fault = .refuse(.milliseconds(Int.random(in: 50...longestMs, using: &generator)))
            }
            var waits = Int.random(in: 0..<3, using: &generator) < 2
            if case .refuse = fault { waits = false }
            let pause = Duration.milliseconds(Int.random(in: gap, using: &generator))
            if waits {
                let deadline = min(ContinuousClock.now + .seconds(3), started + duration)
                while ContinuousClock.now < deadline, !Task.isCancelled, await !ready() {
                    try? await Task.sleep(for: .milliseconds(20))
                }
            }
            guard ContinuousClock.now + pause - started <= duration else { break }
            try? await Task.sleep(for: pause)
            if Task.isCancelled { break }
            let hit = inject(fault)
            injected.append(Injected(at: ContinuousClock.now - started, fault: fault, connections: hit))
        }
        return injected
    }

    // MARK: - The proxy's thread

    /// One proxied connection: the client's socket, the server's, and the bytes read from each not yet written to the
    /// other.
    private final class Link {
        let client: Int32
        let server: Int32
        var toServer: [UInt8] = []
        var toServerSent = 0
        var toClient: [UInt8] = []
        var toClientSent = 0
        /// The client or the server closed; the link ends once what it sent is written on.
        var closing = false

        init(client: Int32, server: Int32) {
            self.client = client
            self.server = server
        }
    }

    private func loop() {
        var links: [Link] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let (faults, stalled, refusing, stop) = lock.withLock { () -> ([Fault], Bool, Bool, Bool) in
                defer { pending.removeAll() }
                let now = ContinuousClock.now
                return (pending, stalledUntil > now, refusingUntil > now, stopping)
            }
            if stop {
                for link in links { Self.close(link, reset: false) }
                closeDescriptor(listener)
                lock.withLock { openLinks = 0 }
                finished.signal()
                return
            }
            for fault in faults {
                var hard = false
                if case .reset = fault { hard = true }
                for link in links { Self.close(link, reset: hard) }
                links.removeAll()
            }

            var descriptors = [pollfd(fd: listener, events: stalled ? 0 : Int16(POLLIN), revents: 0)]
            if !stalled {
                for link in links {
                    descriptors.append(
                        pollfd(
                            fd: link.client,
                            events: Self.events(
                                read: link.toServer.isEmpty && !link.closing, write: !link.toClient.isEmpty), revents: 0
                        ))
                    descriptors.append(
                        pollfd(
                            fd: link.server,
                            events: Self.events(
                                read: link.toClient.isEmpty && !link.closing, write: !link.toServer.isEmpty), revents: 0
                        ))
                }
            }
            let ready = poll(&descriptors, nfds_t(descriptors.count), 10)
            if ready <= 0 || stalled {
                lock.withLock { openLinks = links.count }
                continue
            }

            var fresh: [Link] = []
            if descriptors[0].revents & Int16(POLLIN) != 0 {
                while let link = acceptOne(refusing: refusing) { fresh.append(link) }
            }
            var kept: [Link] = []
            for (index, link) in links.enumerated() {
                if forward(
                    link, client: descriptors[1 + index * 2].revents, server: descriptors[2 + index * 2].revents,
                    buffer: &buffer) {
                    kept.append(link)
                }
            }
            links = kept + fresh
            lock.withLock { openLinks = links.count }
        }
    }

    /// Moves bytes for one link after a poll; false once the link is closed (a peer closed or failed).
    private func forward(
        _ link: Link, client clientEvents: Int16, server serverEvents: Int16, buffer: inout [UInt8]
    ) -> Bool {
        let readable = Int16(POLLIN | POLLHUP | POLLERR)
        // Writes first, so a buffer empties before the next read fills it; a peer gone while writing is an RST to the
        // other.
        var failed =
            clientEvents & Int16(POLLOUT) != 0 && !Self.write(&link.toClient, &link.toClientSent, to: link.client)
        failed =
            failed
            || (serverEvents & Int16(POLLOUT) != 0 && !Self.write(&link.toServer, &link.toServerSent, to: link.server))
        if !failed, clientEvents & readable != 0, link.toServer.isEmpty, !link.closing {
            switch Self.read(link.client, into: &buffer) {
            case .data(let count): link.toServer = Array(buffer[0..<count])
            case .end: link.closing = true
            case .failed: failed = true
            case .wouldBlock: break
            }
        }
        if !failed, serverEvents & readable != 0, link.toClient.isEmpty, !link.closing {
            switch Self.read(link.server, into: &buffer) {
            case .data(let count): link.toClient = Array(buffer[0..<count])
            case .end: link.closing = true
            case .failed: failed = true
            case .wouldBlock: break
            }
        }
        if failed || (link.closing && link.toServer.isEmpty && link.toClient.isEmpty) {
            Self.close(link, reset: failed)
            return false
        }
        return true
    }

    /// Accepts one waiting connection and connects it to the server; nil when none waits (or it was refused).
    private func acceptOne(refusing: Bool) -> Link? {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { return nil }
            lock.withLock { accepted += 1 }
            if refusing {
                Self.closeSocket(client, reset: true)
                continue
            }
            let server = socket(AF_INET, Self.streamType, 0)
            var address = upstream
            let connected = server >= 0 && withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
            } == 0
            guard connected else {
                lock.withLock { upstreamFailures += 1 }
                if server >= 0 { closeDescriptor(server) }
                Self.closeSocket(client, reset: true)
                continue
            }
            for fd in [client, server] {
                Self.setNonBlocking(fd)
                var one: Int32 = 1
                setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
            }
            return Link(client: client, server: server)
        }
    }

    private enum ReadResult {
        case data(Int)
        case end
        case failed
        case wouldBlock
    }

    private static func read(_ fd: Int32, into buffer: inout [UInt8]) -> ReadResult {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count > 0 { return .data(count) }
        if count == 0 { return .end }
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? .wouldBlock : .failed
    }

    /// Writes what it can of `bytes` from `sent` on; false when the peer is gone.
    private static func write(_ bytes: inout [UInt8], _ sent: inout Int, to fd: Int32) -> Bool {
        guard sent < bytes.count else { return true }
        let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if count < 0 { return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR }
        sent += count
        if sent == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            sent = 0
        }
        return true
    }

    private static func close(_ link: Link, reset: Bool) {
        closeSocket(link.client, reset: reset)
        closeSocket(link.server, reset: reset)
    }

    /// Closes a socket; with `reset`, SO_LINGER 0 makes the close send an RST.
    private static func closeSocket(_ fd: Int32, reset: Bool) {
        if reset {
            var option = linger(l_onoff: 1, l_linger: 0)
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        } else {
            shutdown(fd, Int32(SHUT_RDWR))
        }
        closeDescriptor(fd)
    }

    private static func setNonBlocking(_ fd: Int32) {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    private static func events(read: Bool, write: Bool) -> Int16 {
        (read ? Int16(POLLIN) : 0) | (write ? Int16(POLLOUT) : 0)
    }

    #if canImport(Glibc)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    #else
    private static let streamType = SOCK_STREAM
    #endif
}

/// close(2), which the proxy's own `close` hides.
private func closeDescriptor(_ fd: Int32) {
    _ = close(fd)
}

/// A proxy that could not start.
struct ProxyError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    /// The duration in whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000
    }
}
