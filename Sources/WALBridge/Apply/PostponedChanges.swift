import PGOutput

/// Changes of the source transaction being replayed in order that a foreign key of the target refused, to be tried
/// again at its end: the source checks its keys at the end of each statement (a cascaded delete removes the parent
/// first) or at COMMIT (a deferred key), and a slice may end between two of one statement's changes. A later change of
/// a postponed row waits behind it, so no row is written out of its order.
struct PostponedChanges {
    /// One postponed change, with the transactions a row it reads back must see.
    struct Change {
        let source: Int
        let change: RowChange
        let visible: [UInt32]
    }

    /// One row of one source table.
    private struct Row: Hashable {
        let source: Int
        let key: RowKey
    }

    private(set) var changes: [Change] = []
    private var rows: Set<Row> = []

    /// Whether nothing waits.
    var isEmpty: Bool { changes.isEmpty }

    /// Whether a change of the same row waits already, so `change` must wait behind it.
    func holds(_ source: Int, _ change: RowChange, rowKey: [Int]) -> Bool {
        Self.keys(source, change, rowKey: rowKey).contains { rows.contains($0) }
    }

    /// Adds a change to the end.
    mutating func append(_ postponed: Change, rowKey: [Int]) {
        changes.append(postponed)
        rows.formUnion(Self.keys(postponed.source, postponed.change, rowKey: rowKey))
    }

    /// Takes every waiting change, in order, leaving none.
    mutating func takeAll() -> [Change] {
        defer { changes = []; rows = [] }
        return changes
    }

    /// The rows a change touches, by source and row key (an update that moves a row touches two).
    private static func keys(_ source: Int, _ change: RowChange, rowKey: [Int]) -> [Row] {
        [change.old, change.new].compactMap { $0 }.map { Row(source: source, key: RowKey($0, at: rowKey)) }
    }
}
