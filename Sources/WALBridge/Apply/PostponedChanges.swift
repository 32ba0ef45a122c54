import PGOutput

/// Changes of the source transaction being replayed in order that a foreign key of the target refused, to be tried
/// again at its end: the source checks its keys at the end of each statement (a cascaded delete removes the parent
/// first) or at COMMIT (a deferred key), and a slice may end between two of one statement's changes. A later change
/// that writes any of the same target tables waits behind it (the same row, another source's columns of a shared
/// target, another row taking the same target key), so nothing those tables hold is written out of its order.
struct PostponedChanges {
    /// One postponed change, with the transactions a row it reads back must see.
    struct Change {
        let source: Int
        let change: RowChange
        let visible: [UInt32]
    }

    private(set) var changes: [Change] = []
    /// The target tables the postponed changes write.
    private var tables: Set<TableName> = []

    /// Whether nothing waits.
    var isEmpty: Bool { changes.isEmpty }

    /// Whether a change writing `targets` must wait behind one that waits already.
    func holds(_ targets: Set<TableName>) -> Bool {
        !tables.isDisjoint(with: targets)
    }

    /// Adds a change that writes `targets` to the end.
    mutating func append(_ postponed: Change, targets: Set<TableName>) {
        changes.append(postponed)
        tables.formUnion(targets)
    }

    /// Takes every waiting change, in order, leaving none.
    mutating func takeAll() -> [Change] {
        defer { changes = []; tables = [] }
        return changes
    }
}
