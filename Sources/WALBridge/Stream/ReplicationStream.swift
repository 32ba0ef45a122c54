import PGClient
import PGOutput

/// Reads a logical replication slot: decodes pgoutput and sends standby status updates on time
/// (every `statusInterval`, and at once when the server asks).
final class ReplicationStream {
    /// The replication session the stream runs on.
    let connection: PGConnection
    /// Whether the stream reports a flush position at all; a read-only tail of someone else's slot must not.
    let acknowledges: Bool
    /// How often a status update goes out even when nothing happens.
    var statusInterval: Duration
    /// The highest WAL position received.
    private(set) var received: LSN
    /// The position reported to the server as flushed (the slot's `confirmed_flush_lsn` follows it).
    private(set) var flushed: LSN
    private var decoder = PGOutputDecoder()
    private var lastStatus = ContinuousClock.now

    private init(connection: PGConnection, start: LSN, acknowledges: Bool, statusInterval: Duration) {
        self.connection = connection
        self.acknowledges = acknowledges
        self.statusInterval = statusInterval
        received = start
        flushed = start
    }

    /// Starts pgoutput on `slot` from `start` (`LSN.zero`: from the slot's confirmed position);
    /// with `streaming`, large transactions arrive in chunks before they commit (protocol 2).
    static func start(
        on connection: PGConnection,
        slot: String,
        publications: [String],
        from start: LSN = .zero,
        protocolVersion: Int = 1,
        streaming: Bool = false,
        messages: Bool = true,
        acknowledges: Bool = true,
        statusInterval: Duration = .seconds(10)
    ) async throws -> ReplicationStream {
        let names = publications.map { SQLQuoting.identifier($0) }.joined(separator: ",")
        var options: [(name: String, value: String)] = [
            ("proto_version", String(streaming ? max(protocolVersion, 2) : protocolVersion)),
            ("publication_names", names),
            ("messages", messages ? "true" : "false"),
        ]
        if streaming { options.append(("streaming", "on")) }
        try await connection.startReplication(slot: slot, startLSN: start.description, options: options)
        return ReplicationStream(
            connection: connection, start: start, acknowledges: acknowledges, statusInterval: statusInterval)
    }

    /// Reads what has arrived, waiting at most `timeout` (less when a status update falls due first).
    func read(timeout: Duration = .seconds(1)) async throws -> [StreamItem] {
        let untilStatus = statusInterval - (ContinuousClock.now - lastStatus)
        let wait = max(.zero, min(timeout, untilStatus))
        let frames = try await connection.readCopyData(timeout: wait)
        var items: [StreamItem] = []
        items.reserveCapacity(frames.count)
        var replyRequested = false
        for frame in frames {
            switch try ReplicationMessage.decode(frame) {
            case .xLogData(let data):
                let message: PGOutputMessage
                do {
                    message = try decoder.decode(data.data)
                } catch {
                    throw BridgeError.corruptStream(at: WALPosition(data.walStart), reason: "\(error)")
                }
                if data.walStart > received { received = data.walStart }
                items.append(.message(data.walStart, message))
            case .keepalive(let keepalive):
                replyRequested = replyRequested || keepalive.replyRequested
                items.append(.keepalive(keepalive))
            }
        }
        if replyRequested || ContinuousClock.now - lastStatus >= statusInterval {
            try await sendStatus()
        }
        return items
    }

    /// Marks everything up to `lsn` as durably handled; the next status update reports it.
    func acknowledge(_ lsn: LSN) {
        if lsn > flushed { flushed = lsn }
        if lsn > received { received = lsn }
    }

    /// Sends a standby status update now.
    func sendStatus(replyRequested: Bool = false) async throws {
        let reported = acknowledges ? flushed : .zero
        let update = StandbyStatusUpdate(
            written: received, flushed: reported, applied: reported,
            sendTime: PGTimestamp.now, replyRequested: replyRequested)
        try await connection.sendCopyData(update.encoded())
        lastStatus = .now
    }
}
