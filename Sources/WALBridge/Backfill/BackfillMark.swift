import PGClient
import PGOutput

/// A backfill watermark: a non-transactional logical message the backfill writes to the source
/// before (low) and after (high) reading a chunk, so the reader sees where the chunk sits in the stream.
struct BackfillMark: Sendable, Equatable {
    /// The logical message prefix of every watermark.
    static let prefix = "walbridge.backfill"

    /// Low or high.
    enum Edge: String, Sendable { case low = "L", high = "H" }

    var edge: Edge
    /// The chunk's number within this run of the bridge.
    var seq: Int
    /// The chunk's source table (an index into the plan).
    var source: Int
    /// A token unique to one run of the bridge: watermarks of an earlier run are stale.
    var run: String
    var slot: String

    /// The message content: `edge seq source run slot`.
    var content: String { "\(edge.rawValue) \(seq) \(source) \(run) \(slot)" }

    init(edge: Edge, seq: Int, source: Int, run: String, slot: String) {
        self.edge = edge
        self.seq = seq
        self.source = source
        self.run = run
        self.slot = slot
    }

    /// Parses a message content; nil for anything else.
    init?(content: [UInt8]) {
        let fields = String(decoding: content, as: UTF8.self).split(separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, let edge = Edge(rawValue: String(fields[0])), let seq = Int(fields[1]), let source = Int(fields[2]) else {
            return nil
        }
        self.init(edge: edge, seq: seq, source: source, run: String(fields[3]), slot: String(fields[4]))
    }
}

/// What the reader saw of the mapped changes between a chunk's low and high watermark.
struct BackfillWindow: Sendable, Equatable {
    var seq: Int
    var source: Int
    /// The high watermark's position.
    var lsn: LSN
    /// Keys of the chunk's table that transactions committed inside the window changed.
    var touched: Set<RowKey> = []
    /// How many commits the reader had seen at the low watermark: those before it are checked against the chunk's snapshot.
    var commitsBefore = 0
    /// The chunk cannot be placed at the high watermark: a streamed transaction was open at either watermark, or its table was truncated in the window.
    var interrupted = false
}

/// The rows of a chunk that go to the target at the high watermark, with the progress to record in the same transaction.
struct BackfillChunk: Sendable, Equatable {
    var source: Int
    /// Rows in staged-column order.
    var rows: [[TupleValue]]
    /// The high watermark's position.
    var lsn: LSN
    /// Records the chunk's last key in `walbridge.backfill`.
    var progress: Statement
}

/// The xids of the last transactions the reader saw commit, in commit order, oldest dropped first.
struct RecentCommits: Sendable {
    private let capacity: Int
    private var ring: [UInt32] = []
    /// Commits seen in all.
    private(set) var count = 0

    /// Remembers up to `capacity` xids.
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Remembers a commit.
    mutating func insert(_ xid: UInt32) {
        if ring.count < capacity { ring.append(xid) } else { ring[count % capacity] = xid }
        count += 1
    }

    /// Whether one of the remembered commits among the first `end` seen satisfies `predicate`.
    func contains(before end: Int, where predicate: (UInt32) -> Bool) -> Bool {
        (max(count - capacity, 0)..<min(end, count)).contains { predicate(ring[$0 % capacity]) }
    }
}
