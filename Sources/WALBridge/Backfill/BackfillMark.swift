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
        let fields = String(decoding: content, as: UTF8.self).split(
            separator: " ", maxSplits: 4, omittingEmptySubsequences: false)
        guard fields.count == 5, let edge = Edge(rawValue: String(fields[0])), let seq = Int(fields[1]),
            let source = Int(fields[2])
        else {
            return nil
        }
        self.init(edge: edge, seq: seq, source: source, run: String(fields[3]), slot: String(fields[4]))
    }
}
