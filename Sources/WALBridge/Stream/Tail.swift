import Logging
import PGClient
import PGOutput

/// What `walbridge tail` reads.
public struct TailOptions: Sendable {
    /// The source database.
    public var source: DatabaseAddress
    /// Publications whose tables are shown.
    public var publications: [String]
    /// An existing slot to read without acknowledging anything; nil creates a temporary slot.
    public var slot: String?
    /// How often a status update goes out at the least.
    public var statusInterval: Duration = .seconds(10)

    /// Options for a tail of `publications` on `source`.
    public init(source: DatabaseAddress, publications: [String], slot: String? = nil) {
        self.source = source
        self.publications = publications
        self.slot = slot
    }
}

/// A live, read-only view of a publication's committed changes, in commit order.
public struct Tail: Sendable {
    public let options: TailOptions
    public let logger: Logger

    /// A tail with these options, logging through `logger`.
    public init(options: TailOptions, logger: Logger) {
        self.options = options
        self.logger = logger
    }

    /// Streams until the task is cancelled (returns normally) or the stream fails (throws).
    /// `onStart` is called once streaming has begun, with the slot and its start position;
    /// `onChanges` gets the events of each batch read, in commit order.
    public func run(
        onStart: @Sendable (_ slot: String, _ start: LSN) async throws -> Void = { _, _ in },
        onChanges: @Sendable ([ChangeEvent]) async throws -> Void
    ) async throws {
        try await SourceCheck.checkForLogicalReplication(options.source, publications: options.publications)
        try await SourceCheck.connect(options.source, replication: true).closing { connection in
            try await stream(on: connection, onStart: onStart, onChanges: onChanges)
        }
    }

    /// Creates or opens the slot on the replication session and streams from it until cancelled.
    private func stream(
        on connection: PGConnection,
        onStart: @Sendable (_ slot: String, _ start: LSN) async throws -> Void,
        onChanges: @Sendable ([ChangeEvent]) async throws -> Void
    ) async throws {
        try await connection.simpleQuery(StableOutput.settings)

        let slot: String
        let start: LSN
        if let existing = options.slot {
            slot = existing
            start = .zero
        } else {
            slot = "walbridge_tail_\(UInt32.random(in: 0...UInt32.max))"
            let created = try await connection.createReplicationSlot(slot, temporary: true, snapshot: .nothing)
            start = LSN(created.consistentPoint) ?? .zero
        }
        let stream: ReplicationStream
        do {
            stream = try await ReplicationStream.start(
                on: connection, slot: slot, publications: options.publications, from: start,
                acknowledges: options.slot == nil, statusInterval: options.statusInterval)
        } catch let error as PGError where error.sqlState == "42704" {
            throw BridgeError.sourceNotReady(
                "source: replication slot \(slot) does not exist; leave out --slot to read through a temporary slot")
        }
        logger.info("streaming", metadata: [
            "slot": "\(slot)", "temporary": "\(options.slot == nil)", "start": "\(start)",
            "publications": "\(options.publications.joined(separator: ","))",
        ])
        try await onStart(slot, start)

        var assembler = ChangeAssembler()
        while !Task.isCancelled {
            let items: [StreamItem]
            do {
                items = try await stream.read()
            } catch is CancellationError {
                break
            }
            var events: [ChangeEvent] = []
            var idleAt: LSN?
            for item in items {
                switch item {
                case .message(let lsn, let message):
                    events += try assembler.consume(message, at: lsn)
                case .keepalive(let keepalive):
                    idleAt = assembler.inTransaction ? nil : keepalive.walEnd
                }
            }
            if !events.isEmpty { try await onChanges(events) }
            if let end = assembler.lastCommitEnd { stream.acknowledge(end) }
            if let idleAt { stream.acknowledge(idleAt) }
        }
        try? await stream.sendStatus()
        logger.info("stopped", metadata: ["slot": "\(slot)", "received": "\(stream.received)"])
    }
}
