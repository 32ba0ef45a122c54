import PGClient
import PGOutput

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
