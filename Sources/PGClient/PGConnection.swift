import CLibPQ

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One libpq connection. Every call runs on the connection's own thread and waits for its socket
/// with `poll`, so a stalled server never blocks Swift's cooperative threads, and a cancelled task
/// stops waiting within 100 ms.
public actor PGConnection {
    private let thread: ConnectionThread
    private let owned = OwnedHandle()

    /// The libpq connection, nil once closed.
    var handle: OpaquePointer? {
        get { owned.conn }
        set { owned.conn = newValue }
    }

    /// `user@host:port/dbname` of the server, for messages (never the password).
    public nonisolated let endpoint: String

    /// The dedicated thread this connection's calls run on.
    public nonisolated var unownedExecutor: UnownedSerialExecutor {
        thread.asUnownedSerialExecutor()
    }

    private init(endpoint: String) {
        self.endpoint = endpoint
        thread = ConnectionThread(name: "pg \(endpoint)")
    }

    deinit {
        thread.stop()
    }

    /// Opens a connection; `replication` asks for a logical replication (walsender) session.
    public static func connect(
        _ connection: ConnectionString,
        replication: Bool = false,
        applicationName: String = "walbridge",
        timeout: Duration = .seconds(30)
    ) async throws -> PGConnection {
        let pg = PGConnection(endpoint: connection.summary)
        try await pg.open(connection.raw, replication: replication, applicationName: applicationName, timeout: timeout)
        return pg
    }

    private func open(_ conninfo: String, replication: Bool, applicationName: String, timeout: Duration) throws {
        // The caller's string is expanded first; the keywords after it override what it says.
        var keywords = ["dbname", "fallback_application_name", "client_encoding"]
        var values = [conninfo, applicationName, "UTF8"]
        if replication {
            keywords.append("replication")
            values.append("database")
        }
        let conn = withCStringArray(keywords) { keys in
            withCStringArray(values) { vals in PQconnectStartParams(keys, vals, 1) }
        }
        guard let conn else { throw PGError(.connect, "cannot connect to \(endpoint): out of memory") }
        handle = conn
        let deadline = ContinuousClock.now + timeout
        var state = PGRES_POLLING_WRITING
        while state != PGRES_POLLING_OK {
            if PQstatus(conn) == CONNECTION_BAD || state == PGRES_POLLING_FAILED {
                throw failConnect(PGError(.connect, libpqMessage(conn)))
            }
            let reading = state == PGRES_POLLING_READING
            guard ContinuousClock.now < deadline else {
                throw failConnect(PGError(.timeout, "no answer within \(timeout)"))
            }
            do {
                _ = try waitSocket(read: reading, write: !reading)
            } catch {
                throw failConnect(error)
            }
            state = PQconnectPoll(conn)
        }
        PQsetnonblocking(conn, 1)
        // Notices and warnings are dropped: libpq's default receiver would print them to stderr.
        PQsetNoticeReceiver(conn, { _, _ in }, nil)
    }

    private func failConnect(_ error: Error) -> Error {
        if let handle { PQfinish(handle) }
        handle = nil
        guard var error = error as? PGError else { return error }
        error.message = "cannot connect to \(endpoint): \(error.message)"
        return error
    }

    /// Closes the connection; later calls throw `PGError.Kind.closed`.
    public func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// Whether the connection is open and healthy.
    public var isOpen: Bool {
        guard let handle else { return false }
        return PQstatus(handle) == CONNECTION_OK
    }

    /// The server's version number, e.g. 150018.
    public var serverVersion: Int {
        handle.map { Int(PQserverVersion($0)) } ?? 0
    }

    // MARK: - Plumbing shared by the command files

    /// The open libpq handle, or an error if the connection was closed.
    func connection() throws -> OpaquePointer {
        guard let handle else { throw PGError(.closed, "connection to \(endpoint) is closed") }
        return handle
    }

    /// The error for a connection that failed while in use.
    func lostError(_ conn: OpaquePointer) -> PGError {
        let message = libpqMessage(conn)
        return PGError(
            .connectionLost,
            "connection to \(endpoint) lost: \(message.isEmpty ? "server closed the connection" : message)")
    }

    /// Waits until the socket is ready or 100 ms pass; returns (readable, writable).
    /// Throws `CancellationError` when the task is cancelled and `cancellable` is true.
    func waitSocket(read: Bool, write: Bool, cancellable: Bool = true) throws -> (readable: Bool, writable: Bool) {
        let conn = try connection()
        if cancellable && Task.isCancelled { throw CancellationError() }
        let socket = PQsocket(conn)
        guard socket >= 0 else { throw lostError(conn) }
        var events: Int16 = 0
        if read { events |= Int16(POLLIN) }
        if write { events |= Int16(POLLOUT) }
        var descriptor = pollfd(fd: socket, events: events, revents: 0)
        let ready = poll(&descriptor, 1, 100)
        if ready < 0 {
            if errno == EINTR { return (false, false) }
            throw PGError(.connectionLost, "poll failed on connection to \(endpoint): errno \(errno)")
        }
        let failed = descriptor.revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0
        return (descriptor.revents & Int16(POLLIN) != 0 || failed, descriptor.revents & Int16(POLLOUT) != 0)
    }

    /// Writes everything libpq has queued, reading input meanwhile so the server never stalls on a full pipe.
    func flushOutgoing(_ conn: OpaquePointer, cancellable: Bool = true) throws {
        while true {
            let state = PQflush(conn)
            if state == 0 { return }
            if state < 0 { throw lostError(conn) }
            let (readable, _) = try waitSocket(read: true, write: true, cancellable: cancellable)
            if readable && PQconsumeInput(conn) == 0 { throw lostError(conn) }
        }
    }

    /// The next result of the command in flight, or nil when it has no more.
    /// On cancellation it asks the server to cancel, drains, and throws `CancellationError`.
    func nextResult(_ conn: OpaquePointer) throws -> OpaquePointer? {
        do {
            while PQisBusy(conn) == 1 {
                let (readable, _) = try waitSocket(read: true, write: false)
                if readable && PQconsumeInput(conn) == 0 { throw lostError(conn) }
            }
        } catch is CancellationError {
            abandonCommand(conn)
            throw CancellationError()
        }
        return PQgetResult(conn)
    }

    /// Cancels the command in flight and closes the connection: a pipeline or COPY cut short leaves the
    /// session in a state no later call could rely on.
    private func abandonCommand(_ conn: OpaquePointer) {
        if let cancel = PQgetCancel(conn) {
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancel, &buffer, Int32(buffer.count))
            PQfreeCancel(cancel)
        }
        close()
    }

    /// Reads all results of the command in flight; throws the first error after draining them.
    func collectResults(_ conn: OpaquePointer) throws -> [QueryResult] {
        var results: [QueryResult] = []
        var firstError: PGError?
        while let result = try nextResult(conn) {
            defer { PQclear(result) }
            switch PQresultStatus(result) {
            case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_SINGLE_TUPLE:
                results.append(QueryResult(result: result))
            case PGRES_FATAL_ERROR:
                if firstError == nil { firstError = PGError(result: result) }
            case PGRES_COPY_IN:
                PQputCopyEnd(conn, "walbridge did not expect COPY FROM STDIN here")
                if firstError == nil { firstError = PGError(.protocolViolation, "unexpected COPY FROM STDIN") }
            case PGRES_COPY_OUT, PGRES_COPY_BOTH:
                close()
                throw PGError(.protocolViolation, "unexpected COPY TO STDOUT from \(endpoint); connection closed")
            default:
                if firstError == nil { firstError = PGError(result: result) }
            }
        }
        if PQstatus(conn) == CONNECTION_BAD { throw lostError(conn) }
        if let firstError { throw firstError }
        return results
    }

    /// The error for a send call that libpq refused.
    func sendError(_ conn: OpaquePointer) -> PGError {
        PQstatus(conn) == CONNECTION_BAD ? lostError(conn) : PGError(.protocolViolation, libpqMessage(conn))
    }
}

/// libpq's last error message on one line.
func libpqMessage(_ conn: OpaquePointer) -> String {
    String(cString: PQerrorMessage(conn))
        .split(whereSeparator: \.isNewline)
        .map { $0.drop { $0 == " " || $0 == "\t" } }
        .joined(separator: " ")
        .trimmingTrailingNewlines()
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStringArray<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let copies = strings.map { $0.flatMap { strdup($0) } }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) } + [nil]
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Owns a libpq connection handle and finishes it when released.
final class OwnedHandle: @unchecked Sendable {
    var conn: OpaquePointer?

    deinit {
        if let conn { PQfinish(conn) }
    }
}

extension QueryResult {
    /// Copies a libpq result into Swift values.
    init(result: OpaquePointer) {
        let fields = PQnfields(result)
        let tuples = PQntuples(result)
        columns = (0..<fields).map { String(cString: PQfname(result, $0)) }
        rows = (0..<tuples).map { row in
            (0..<fields).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }
        }
        commandTag = String(cString: PQcmdStatus(result))
        columnTypes = (0..<fields).map { UInt32(PQftype(result, $0)) }
    }
}

extension PGConnection {
    /// Runs `body` with this connection and closes it afterwards, whether `body` returned or threw.
    public nonisolated func closing<R: Sendable>(_ body: (PGConnection) async throws -> R) async throws -> R {
        do {
            let result = try await body(self)
            await close()
            return result
        } catch {
            await close()
            throw error
        }
    }
}
