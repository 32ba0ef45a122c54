import PGOutput
import Testing
@testable import WALBridge

@Suite("RowFolder")
struct RowFolderTests {
    // Staged columns: id (row key), name, big.
    func row(_ id: String, _ name: TupleValue, _ big: TupleValue = .null) -> [TupleValue] { [text(id), name, big] }
    func change(
        _ kind: RowChange.Kind, new: [TupleValue]? = nil, old: [TupleValue]? = nil, full: Bool = false
    ) -> RowChange {
        RowChange(kind: kind, new: new, old: old, oldIsFull: full, lsn: LSN(1))
    }

    @Test("insert then update then delete of one key folds to one delete that never reached the target")
    func insertUpdateDelete() {
        var folder = RowFolder(rowKey: [0])
        folder.fold(change(.insert, new: row("1", text("a"))))
        folder.fold(change(.update, new: row("1", text("b"))))
        #expect(folder.rows.count == 1)
        #expect(folder.rows[0].operation == .upsert && folder.rows[0].fresh && folder.rows[0].values[1] == text("b"))
        folder.fold(change(.delete, old: row("1", .null)))
        #expect(folder.rows.map(\.operation) == [.delete])
        #expect(folder.rows[0].fresh, "inserted and deleted in the batch: staging skips it")
    }

    @Test("an unchanged TOAST value is filled from an earlier change in the batch, or from a full old row")
    func toastFill() {
        var folder = RowFolder(rowKey: [0])
        folder.fold(change(.insert, new: row("1", text("a"), text("BIG"))))
        folder.fold(change(.update, new: row("1", text("b"), .unchangedToast)))
        #expect(folder.rows[0].values == row("1", text("b"), text("BIG")))
        #expect(folder.rows[0].unchanged.isEmpty)

        var alone = RowFolder(rowKey: [0])
        alone.fold(change(.update, new: row("2", text("b"), .unchangedToast)))
        #expect(alone.rows[0].unchanged == [2], "nothing to fill from: the applier keeps the target's value")
        #expect(!alone.rows[0].fresh)

        var full = RowFolder(rowKey: [0])
        full.fold(
            change(
                .update, new: row("3", text("b"), .unchangedToast), old: row("3", text("a"), text("OLD BIG")),
                full: true))
        #expect(full.rows[0].values[2] == text("OLD BIG"))
    }

    @Test("an identity column left out as unchanged TOAST is filled from the old key tuple, so the row does not move")
    func toastedIdentityMember() {
        // Row key: columns 0 and 2 (identity USING INDEX (id, big)); big is TOASTed out of line and unchanged.
        var folder = RowFolder(rowKey: [0, 2])
        folder.fold(change(.update, new: row("1", text("new"), .unchangedToast), old: [text("1"), .null, text("BIG")]))
        #expect(folder.rows.map(\.operation) == [.upsert], "not a delete of the old key: the key did not change")
        #expect(folder.rows[0].values == row("1", text("new"), text("BIG")))
        // A change of the other identity column moves the row, and carries the TOASTed member over.
        var moved = RowFolder(rowKey: [1, 2])
        moved.fold(change(.update, new: row("1", text("b2"), .unchangedToast), old: [.null, text("b1"), text("BIG")]))
        #expect(moved.rows.map(\.operation) == [.delete, .upsert])
        #expect(moved.rows[1].values == row("1", text("b2"), text("BIG")) && !moved.rows[1].movedIn)
    }

    @Test("an update that changes the key deletes the old key and upserts the new one, carrying values over")
    func keyChange() {
        var folder = RowFolder(rowKey: [0])
        folder.fold(change(.insert, new: row("1", text("a"), text("BIG"))))
        folder.fold(change(.update, new: row("2", text("a"), .unchangedToast), old: row("1", .null)))
        #expect(folder.rows.count == 2)
        #expect(folder.rows[0].operation == .delete && folder.rows[0].values[0] == text("1"))
        #expect(folder.rows[1].operation == .upsert && folder.rows[1].values == row("2", text("a"), text("BIG")))
        // A new row at the old key later in the batch replaces the delete.
        folder.fold(change(.insert, new: row("1", text("again"))))
        #expect(folder.rows.map(\.operation) == [.upsert, .upsert])
    }

    @Test("""
        a row moved into a key freed in the batch, without its TOAST value, is marked to be read back; \
        so is a later update of it
        """)
    func movedIntoFreedKey() {
        var folder = RowFolder(rowKey: [0])
        folder.fold(change(.delete, old: row("1", .null)))
        folder.fold(change(.update, new: row("1", text("b"), .unchangedToast), old: row("2", .null)))
        let moved = folder.rows.first { $0.values[0] == text("1") }
        #expect(
            moved?.operation == .upsert && moved?.movedIn == true,
            "the target row at 1 is the deleted row's: its TOAST value is not this row's")
        folder.fold(change(.update, new: row("1", text("c"), .unchangedToast)))
        #expect(folder.rows.first { $0.values[0] == text("1") }?.movedIn == true)
        // A move whose values are all known needs nothing from the target.
        var known = RowFolder(rowKey: [0])
        known.fold(change(.update, new: row("1", text("b"), text("BIG")), old: row("2", .null)))
        #expect(known.rows.allSatisfy { !$0.movedIn })
    }

    @Test("""
        REPLICA IDENTITY FULL: an update of a column some target is keyed on deletes that target's \
        row at the old values
        """)
    func rekeyedOutsideRowKey() {
        // Column 1 (name) is a target's key; the row key is column 0.
        var folder = RowFolder(rowKey: [0], targetKeyColumns: [1])
        folder.fold(
            change(
                .update, new: row("1", text("new"), text("BIG")), old: row("1", text("old"), text("BIG")), full: true))
        #expect(folder.rows.map(\.operation) == [.delete, .upsert])
        #expect(folder.rows[0].rekeyed && folder.rows[0].values[1] == text("old"))
        // A delete, then another row moved into the freed row key (or inserted there): the deleted row's target key
        // goes too.
        var freed = RowFolder(rowKey: [0], targetKeyColumns: [1])
        freed.fold(change(.delete, old: row("1", text("gone"), text("BIG")), full: true))
        freed.fold(
            change(
                .update, new: row("1", text("moved"), text("B")), old: row("2", text("moved"), text("B")), full: true))
        #expect(
            freed.rows.contains { $0.displaced && !$0.rekeyed && $0.values[1] == text("gone") },
            "a source delete: it follows on_delete")
        // The same after a write in the batch: the delete carries that write's values, staged as Y (kept under
        // on_delete: ignore).
        var written = RowFolder(rowKey: [0], targetKeyColumns: [1])
        written.fold(
            change(
                .update, new: row("1", text("gone"), text("new")), old: row("1", text("gone"), text("BIG")), full: true)
        )
        written.fold(change(.delete, old: row("1", text("gone"), text("new")), full: true))
        written.fold(change(.insert, new: row("1", text("other"), text("B"))))
        let kept = written.rows.firstIndex { $0.displaced }
        #expect(kept.map { written.rows[$0].deletedAfterWrite && written.rows[$0].values[2] == text("new") } == true)
        #expect(
            kept.map {
                String(decoding: StagingCopy.encode(written.rows, at: [$0]), as: UTF8.self).split(separator: "\t")[1]
            } == "Y")
        var same = RowFolder(rowKey: [0], targetKeyColumns: [1])
        same.fold(
            change(
                .update, new: row("1", text("old"), text("other")), old: row("1", text("old"), text("BIG")), full: true)
        )
        #expect(same.rows.map(\.operation) == [.upsert], "the target key did not change: nothing to delete")
    }

    @Test("a value mixing a sent and an unsent input is told apart from one whose inputs were all left out")
    func mixes() {
        let folded = FoldedRow(operation: .upsert, values: row("1", text("b"), .unchangedToast), lsn: LSN(1))
        #expect(folded.mixes([1, 2]))
        #expect(!folded.mixes([2]))
        #expect(!folded.mixes([0, 1]))
    }

    @Test("composite keys tell rows apart by every part")
    func compositeKey() {
        var folder = RowFolder(rowKey: [0, 1])
        folder.fold(change(.insert, new: [text("1"), text("a"), .null]))
        folder.fold(change(.insert, new: [text("1"), text("b"), .null]))
        folder.fold(change(.insert, new: [text("1"), text("a"), text("x")]))
        #expect(folder.rows.count == 2)
        #expect(folder.rows[0].values[2] == text("x"))
    }
}

@Suite("StagingCopy")
struct StagingCopyTests {
    @Test("COPY text escapes, NULL, unchanged positions and op letters")
    func encoding() {
        var rows = [FoldedRow](repeating: FoldedRow(operation: .delete, values: [], lsn: .zero), count: 6)
        rows[0] = FoldedRow(
            operation: .upsert, fresh: true, values: [text("1"), text("tab\there\\ and\nnew line\r")], lsn: .zero)
        rows[4] = FoldedRow(operation: .upsert, values: [text("2"), .unchangedToast], lsn: .zero)
        rows[5] = FoldedRow(operation: .delete, values: [text("3"), .null], lsn: .zero)
        let text = String(decoding: StagingCopy.encode(rows, at: [0, 4, 5]), as: UTF8.self)
        #expect(text == "0\tI\t\\N\t1\ttab\\there\\\\ and\\nnew line\\r\n4\tU\t{1}\t2\t\\N\n5\tD\t\\N\t3\t\\N\n")
    }
}

@Suite("ExpressionReferences")
struct ExpressionReferencesTests {
    let columns: Set<String> = ["name", "price", "address_street", "Mixed"]

    @Test("finds column names outside literals and comments, folding unquoted names")
    func references() {
        #expect(ExpressionReferences.columns(in: "price::numeric / 100", among: columns) == ["price"])
        #expect(
            ExpressionReferences.columns(in: "upper(NAME) || 'price' || $$address_street$$", among: columns) == ["name"]
        )
        #expect(
            ExpressionReferences.columns(in: "coalesce(\"Mixed\", E'it\\'s price') -- address_street", among: columns)
                == ["Mixed"])
        #expect(ExpressionReferences.columns(in: "/* name */ 42", among: columns).isEmpty)
        #expect(ExpressionReferences.columns(in: "address_street IS NOT NULL", among: columns) == ["address_street"])
        // A typed literal of type `name` is no E'…' string: its backslash ends nothing, and `price` after it counts.
        #expect(
            ExpressionReferences.columns(in: "name'C:\\' || upper(price::text)", among: columns) == ["name", "price"])
    }

    @Test("renames plain column references to target columns, and refuses anything else")
    func renaming() {
        let renamed = ["address_street": "street", "name": "full_name", "Mixed": "mixed"]
        let taken: Set<String> = ["street", "full_name", "mixed", "city"]
        func rename(_ expression: String) -> String? {
            ExpressionReferences.renaming(expression, renamed, among: columns, taken: taken)
        }
        #expect(rename("address_street IS NOT NULL") == "\"street\" IS NOT NULL")
        #expect(
            rename("length(NAME) > 3 AND \"Mixed\" <> 'name' -- name")
                == "length(\"full_name\") > 3 AND \"mixed\" <> 'name' -- name")
        #expect(rename("address_street::text <> ''") == "\"street\"::text <> ''")
        // A column not copied straight, a target column's name that the source lacks, and names that are not columns
        // here.
        #expect(rename("price > 0") == nil)
        #expect(rename("city IS NOT NULL") == nil)
        #expect(rename("name(address_street) IS NULL") == nil)
        #expect(rename("users.name IS NULL") == nil)
        #expect(rename("'x'::name IS NULL") == nil)
        #expect(rename("name 'x' IS NULL") == nil)
    }
}
