import PGOutput
import Testing
@testable import WALBridge

@Suite("PostponedChanges")
struct PostponedChangesTests {
    static func text(_ value: String) -> TupleValue { .text(ArraySlice(value.utf8)) }

    static func update(_ id: String, from old: String? = nil, source: Int = 0) -> PostponedChanges.Change {
        PostponedChanges.Change(
            source: source,
            change: RowChange(kind: .update, new: [text(id), text("v")], old: old.map { [text($0), .null] }, oldIsFull: false, lsn: LSN(1)),
            visible: [])
    }

    @Test("a later change of a postponed row waits behind it, by either of a moved row's keys; other rows and tables do not")
    func holds() {
        var postponed = PostponedChanges()
        #expect(postponed.isEmpty)
        postponed.append(Self.update("2", from: "1"), rowKey: [0])
        #expect(postponed.holds(0, Self.update("1").change, rowKey: [0]), "the old key")
        #expect(postponed.holds(0, Self.update("2").change, rowKey: [0]), "the new key")
        #expect(!postponed.holds(0, Self.update("3").change, rowKey: [0]))
        #expect(!postponed.holds(1, Self.update("2").change, rowKey: [0]), "the same key of another table")
        let taken = postponed.takeAll()
        #expect(taken.count == 1 && postponed.isEmpty && !postponed.holds(0, Self.update("2").change, rowKey: [0]))
    }
}
