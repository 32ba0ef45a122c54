import Testing
@testable import WALBridge

@Suite("ForeignKeyOrder")
struct ForeignKeyOrderTests {
    static func table(_ name: String) -> TableName { TableName(schema: "public", name: name) }

    static func key(_ child: String, _ parent: String, deferrable: Bool = false) -> ForeignKeyOrder.Key {
        ForeignKeyOrder.Key(
            name: "public.\(child)_fkey", constraint: "\(child)_fkey", child: table(child), parent: table(parent),
            deferrable: deferrable)
    }

    @Test("a parent ranks before its children and grandchildren; a table referencing itself keeps its rank")
    func ranks() throws {
        let order = try #require(
            ForeignKeyOrder.ordering([
                Self.key("orders", "customers"), Self.key("lines", "orders"), Self.key("customers", "customers")
            ]))
        #expect(order.rank(Self.table("customers")) == 0)
        #expect(order.rank(Self.table("orders")) == 1)
        #expect(order.rank(Self.table("lines")) == 2)
        #expect(order.rank(Self.table("unrelated")) == 0)
        #expect(order.deferral == nil)
    }

    @Test("a cycle is broken by deferring its DEFERRABLE keys to COMMIT; one without such a key has no order")
    func cycles() throws {
        let deferred = try #require(
            ForeignKeyOrder.ordering([Self.key("a", "b"), Self.key("b", "a", deferrable: true)]))
        #expect(deferred.rank(Self.table("b")) == 0 && deferred.rank(Self.table("a")) == 1)
        #expect(deferred.deferral?.sql == "SET CONSTRAINTS public.b_fkey DEFERRED")
        #expect(ForeignKeyOrder.ordering([Self.key("a", "b"), Self.key("b", "c"), Self.key("c", "a")]) == nil)
        let acyclic = try #require(ForeignKeyOrder.ordering([Self.key("a", "b", deferrable: true)]))
        #expect(acyclic.rank(Self.table("a")) == 1, "ordered all the same")
        #expect(acyclic.deferral?.sql == "SET CONSTRAINTS public.a_fkey DEFERRED", "and checked at COMMIT")
        #expect(
            acyclic.replayDeferral.map(\.sql) == ["SET CONSTRAINTS public.a_fkey IMMEDIATE"],
            "but at once in ordered replay")
        #expect(
            deferred.replayDeferral.map(\.sql) == ["SET CONSTRAINTS public.b_fkey DEFERRED"],
            "a cycle's key stays deferred")
    }
}
