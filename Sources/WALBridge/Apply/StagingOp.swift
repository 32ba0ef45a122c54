import PGClient

/// What a staged row asks of its targets: the letter in a staging table's op column.
enum StagingOp: Character, Sendable {
    /// A fresh row: a plain insert.
    case insert = "I"
    /// A row to upsert.
    case upsert = "U"
    /// A row to delete.
    case delete = "D"
    /// A row deleted after being written in the batch, with that write's values.
    case deletedAfterWrite = "E"
    /// The old key of a row whose row key changed.
    case oldKey = "K"
    /// The old values of a row whose update moved it in the targets keyed outside the row key.
    case rekeyed = "R"
    /// The values of a deleted row whose row key a new row took (for targets keyed outside the row key).
    case displaced = "X"
    /// The same for a row written earlier in the batch, with that write's values.
    case displacedAfterWrite = "Y"

    /// The letter as COPY writes it.
    var byte: UInt8 { rawValue.asciiValue! }

    /// The SQL condition that the op column holds one of `ops`: `"__wb_op" = 'U'`, `"__wb_op" IN ('U', 'E')`.
    static func sql(_ ops: StagingOp...) -> String {
        let letters = ops.map { "'\($0.rawValue)'" }
        return letters.count == 1
            ? "\(StagingColumn.op) = \(letters[0])" : "\(StagingColumn.op) IN (\(letters.joined(separator: ", ")))"
    }
}

extension FoldedRow {
    /// The op this row is staged with.
    var stagingOp: StagingOp {
        switch (operation, moved, deletedAfterWrite, fresh) {
        case (.delete, _, _, _) where rekeyed: .rekeyed
        case (.delete, _, true, _) where displaced: .displacedAfterWrite
        case (.delete, _, _, _) where displaced: .displaced
        case (.delete, true, _, _): .oldKey
        case (.delete, false, true, _): .deletedAfterWrite
        case (.delete, false, false, _): .delete
        case (.upsert, _, _, true): .insert
        case (.upsert, _, _, false): .upsert
        }
    }
}
