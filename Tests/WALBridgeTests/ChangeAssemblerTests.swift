import PGOutput
import Testing
@testable import WALBridge

/// A small relation: users(id int4 key, name text, active bool, big text).
let users = Relation(
    xid: nil, id: 16_384, namespace: "public", name: "users", replicaIdentity: .default,
    columns: [
        RelationColumn(isKey: true, name: "id", typeOID: 23, typeModifier: -1),
        RelationColumn(isKey: false, name: "name", typeOID: 25, typeModifier: -1),
        RelationColumn(isKey: false, name: "active", typeOID: 16, typeModifier: -1),
        RelationColumn(isKey: false, name: "big", typeOID: 25, typeModifier: -1),
    ])

func text(_ string: String) -> TupleValue { .text(ArraySlice(string.utf8)) }

@Suite("ChangeAssembler")
struct ChangeAssemblerTests {
    let begin = Begin(finalLSN: LSN(0x200), commitTime: PGTimestamp(rawValue: 0), xid: 77)

    @Test("changes carry the transaction's xid and commit time; Commit records the end LSN")
    func transactionContext() throws {
        var assembler = ChangeAssembler()
        #expect(try assembler.consume(.relation(users), at: LSN(0x100)).isEmpty)
        #expect(try assembler.consume(.begin(begin), at: LSN(0x100)).isEmpty)
        #expect(assembler.inTransaction)
        let events = try assembler.consume(
            .insert(Insert(xid: nil, relationID: users.id, new: [text("1"), text("a"), text("t"), .null])),
            at: LSN(0x150))
        #expect(events.count == 1)
        #expect(events[0].xid == 77)
        #expect(events[0].commitTime == PGTimestamp(rawValue: 0))
        #expect(events[0].relation == users)
        #expect(events[0].lsn == LSN(0x150))
        _ = try assembler.consume(
            .commit(Commit(flags: 0, commitLSN: LSN(0x200), endLSN: LSN(0x230), commitTime: PGTimestamp(rawValue: 0))),
            at: LSN(0x200))
        #expect(!assembler.inTransaction)
        #expect(assembler.lastCommitEnd == LSN(0x230))
    }

    @Test("a change to a relation never described is an error naming the LSN, not a crash")
    func unknownRelation() {
        var assembler = ChangeAssembler()
        #expect(throws: BridgeError.unknownRelation(99, at: WALPosition(LSN(0x10)))) {
            try assembler.consume(
                .delete(Delete(xid: nil, relationID: 99, old: OldTuple(kind: .key, values: [text("1")]))), at: LSN(0x10)
            )
        }
    }

    @Test("a truncate of several tables is one event per table")
    func truncateFansOut() throws {
        var assembler = ChangeAssembler()
        var other = users
        other.id = 16_390
        other.name = "orders"
        _ = try assembler.consume(.relation(users), at: .zero)
        _ = try assembler.consume(.relation(other), at: .zero)
        let events = try assembler.consume(
            .truncate(Truncate(xid: nil, cascade: true, restartIdentity: false, relationIDs: [users.id, other.id])),
            at: LSN(5))
        #expect(events.map { $0.relation?.name } == ["users", "orders"])
        #expect(events.allSatisfy { $0.cascade && !$0.restartIdentity && $0.operation == .truncate })
    }

    @Test("a non-transactional message outside a transaction has no xid")
    func nonTransactionalMessage() throws {
        var assembler = ChangeAssembler()
        let message = LogicalMessage(xid: nil, transactional: false, lsn: LSN(9), prefix: "p", content: [0xFF, 0x00])
        let events = try assembler.consume(.message(message), at: LSN(9))
        #expect(events.count == 1)
        #expect(events[0].xid == nil)
        #expect(events[0].commitTime == nil)
        #expect(
            events[0].json == #"{"lsn":"0/9","op":"message","transactional":false,"prefix":"p","content_hex":"ff00"}"#)
    }

    @Test("streaming messages are refused on a protocol 1 stream")
    func streamingIsUnexpected() {
        var assembler = ChangeAssembler()
        #expect(throws: BridgeError.unexpectedMessage("Stream Start", at: WALPosition(LSN(1)))) {
            try assembler.consume(.streamStart(StreamStart(xid: 1, firstSegment: true)), at: LSN(1))
        }
    }
}
