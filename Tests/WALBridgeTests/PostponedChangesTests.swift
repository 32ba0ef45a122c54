import PGOutput
import Testing
@testable import WALBridge

@Suite("PostponedChanges")
struct PostponedChangesTests {
    static func table(_ name: String) -> TableName { TableName(schema: "public", name: name) }

    static func change(_ source: Int) -> PostponedChanges.Change {
        PostponedChanges.Change(
            source: source, change: RowChange(kind: .insert, new: [], old: nil, oldIsFull: false, lsn: LSN(1)),
            visible: [])
    }

    @Test(
        "a later change writing any target table a postponed change writes waits behind it; one writing others does not"
    )
    func holds() {
        var postponed = PostponedChanges()
        #expect(postponed.isEmpty)
        postponed.append(Self.change(0), targets: [Self.table("users_v2"), Self.table("addresses")])
        #expect(postponed.holds([Self.table("addresses")]), "a split target of the same row, or another source's entry")
        #expect(!postponed.holds([Self.table("orders_v2")]))
        let taken = postponed.takeAll()
        #expect(taken.count == 1 && postponed.isEmpty && !postponed.holds([Self.table("addresses")]))
    }
}
