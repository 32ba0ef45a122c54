import Foundation
import Glibc
import Logging

/// A minimal HTTP/1.1 server for `GET /metrics` (Prometheus text) and `GET /healthz` (200 while streaming with a lag
/// under the threshold, 503 otherwise), on a thread of its own; one request per connection.
public final class MetricsServer: @unchecked Sendable {
    private let descriptor: Int32
    private let metrics: BridgeMetrics
    private let maxLag: Duration
    private let logger: Logger
    /// The port it listens on (the one asked for, or the one the system chose for port 0).
    public let port: Int

    /// Listens on `address` (`host:port`; port 0 picks a free one).
    public init(address: String, metrics: BridgeMetrics, maxLag: Duration, logger: Logger) throws {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw BridgeError.sourceNotReady("metrics: '\(address)' must be host:port, e.g. 127.0.0.1:9187")
        }
        let host = String(address[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE
        var info: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &info) == 0, let first = info else {
            throw BridgeError.sourceNotReady("metrics: cannot resolve \(host); use an address such as 127.0.0.1:9187")
        }
        defer { freeaddrinfo(info) }
        let socket = Glibc.socket(first.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        guard socket >= 0, bind(socket, first.pointee.ai_addr, first.pointee.ai_addrlen) == 0, listen(socket, 16) == 0
        else {
            let reason = String(cString: strerror(errno))
            if socket >= 0 { Glibc.close(socket) }
            throw BridgeError.sourceNotReady("metrics: cannot listen on \(address): \(reason)")
        }
        var bound = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        self.port = Int(UInt16(bigEndian: withUnsafeBytes(of: bound) { $0.load(fromByteOffset: 2, as: UInt16.self) }))
        descriptor = socket
        self.metrics = metrics
        self.maxLag = maxLag
        self.logger = logger
        let thread = Thread { [self] in serve() }
        thread.name = "walbridge metrics"
        thread.start()
        logger.info("serving metrics", metadata: ["address": "\(host):\(self.port)", "paths": "/metrics /healthz"])
    }

    /// Stops listening.
    public func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
    }

    private func serve() {
        while true {
            let client = accept(descriptor, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            respond(client)
            Glibc.close(client)
        }
    }

    private func respond(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while request.count < 16_384, !request.ends(with: [13, 10, 13, 10]) {
            let count = recv(client, &buffer, buffer.count, 0)
            if count <= 0 { return }
            request += buffer[..<count]
        }
        let line = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        let path = line.count > 1 ? String(line[1].split(separator: "?").first ?? "") : ""
        let (status, type, body): (String, String, [UInt8])
        switch (line.first, path) {
        case ("GET", "/metrics"):
            (status, type, body) = ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.exposition())
        case ("GET", "/healthz"):
            let healthy = metrics.healthy(maxLag: maxLag)
            (status, type, body) = (
                healthy ? "200 OK" : "503 Service Unavailable", "text/plain",
                Array((healthy ? "ok\n" : "not streaming, or lagging\n").utf8)
            )
        case ("GET", _):
            (status, type, body) = ("404 Not Found", "text/plain", Array("try /metrics or /healthz\n".utf8))
        default:
            (status, type, body) = ("405 Method Not Allowed", "text/plain", Array("GET only\n".utf8))
        }
        let head =
            "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: "
            + "\(body.count)\r\nConnection: close\r\n\r\n"
        let response = Array(head.utf8) + body
        var sent = 0
        while sent < response.count {
            let count = response[sent...].withUnsafeBytes {
                send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            if count <= 0 { return }
            sent += count
        }
    }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool {
        count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix
    }
}
