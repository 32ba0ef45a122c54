import PGClient

/// The statements that apply a staging table's rows to one target, set-based.
struct TargetStatements: Sendable {
    /// Deletes rows whose source row was deleted or whose `when` became false; nil when nothing can be deleted.
    let delete: String?
    /// In a target that keeps deleted rows and is keyed outside the row key: fails (SQLSTATE 21000, so the batch is
    /// replayed one change at a time) when a row deleted after a write shares its target key with another staged row,
    /// since which one the target keeps depends on their order; nil for other targets.
    let keptCollision: String?
    /// Writes, into a target that keeps deleted rows and is keyed outside the row key, the last values of rows deleted
    /// after a write in the batch whose row key a new row took (op `Y`); nil for other targets.
    let keepDisplaced: String?
    /// Writes complete rows: an upsert, or an UPDATE of existing rows in place.
    let write: String
    /// Inserts fresh rows (op `I`), which the target cannot hold yet, without the cost of ON CONFLICT.
    /// A conflict means the target had a row it should not have: the batch fails and is replayed in order with upserts.
    let insertFresh: String
    /// Updates existing rows from rows with unchanged TOAST inputs, keeping those columns; returns the staged seq of
    /// each row it did not find.
    let writePartial: String
    /// Inserts every staged row whose `when` holds, without ON CONFLICT (a backfill chunk's first try).
    let insertAll: String
    /// Deletes the rows of staged keys whose `when` does not hold; nil without `when`.
    let deleteUnwanted: String?

    /// Every statement, for checking that they all compile.
    var all: [String] {
        [keptCollision, delete, keepDisplaced, write, insertFresh, writePartial, insertAll, deleteUnwanted].compactMap {
            $0
        }
    }
}
