import PGOutput
import Testing

/// Type messages, unchanged TOAST, Truncate, logical messages, Origin and binary values.
@Suite struct SchemaAndValueTests {
    @Test func userDefinedTypesAreAnnouncedBeforeTheRelation() throws {
        let messages = try loadFixture("types.txt")
        let mood = try #require(messages[1].message.type)
        #expect(mood.xid == nil)
        #expect(mood.namespace == "public")
        #expect(mood.name == "mood")
        // For a domain PostgreSQL sends the domain's OID with its base type's name and schema ("" = pg_catalog).
        let domain = try #require(messages[2].message.type)
        #expect(domain.namespace == "")
        #expect(domain.name == "int4")
        let relation = try #require(messages[3].message.relation)
        #expect(relation.columns.map(\.name) == ["id", "feeling", "score", "price", "code", "tags", "at"])
        #expect(relation.columns.map(\.typeOID) == [23, mood.oid, domain.oid, 1700, 1043, 1009, 1184])
        #expect(relation.columns.map(\.typeModifier) == [-1, -1, -1, 655_366, 24, -1, -1])
        let insert = try #require(messages[4].message.insert)
        #expect(insert.new == [
            .string("1"), .string("happy"), .string("42"), .string("1234.50"), .string("abc"), .string("{x,y}"),
            .string("2024-01-02 03:04:05.123456+00"),
        ])
    }

    @Test func unchangedToastedColumnIsNotSent() throws {
        let messages = try loadFixture("toast.txt")
        let relation = try #require(messages[1].message.relation)
        #expect(relation.name == "documents")
        let update = try #require(messages[2].message.update)
        #expect(update.old == nil)
        #expect(update.new == [.string("1"), .string("final"), .unchangedToast])
    }

    @Test func truncateListsRelationsAndOptions() throws {
        let messages = try loadFixture("truncate.txt")
        let parents = try #require(messages[1].message.relation)
        let children = try #require(messages[2].message.relation)
        #expect([parents.name, children.name] == ["parents", "children"])
        let cascade = try #require(messages[3].message.truncate)
        #expect(
            cascade == Truncate(xid: nil, cascade: true, restartIdentity: true, relationIDs: [parents.id, children.id]))
        let logs = try #require(messages[6].message.relation)
        let plain = try #require(messages[7].message.truncate)
        #expect(plain == Truncate(xid: nil, cascade: false, restartIdentity: false, relationIDs: [logs.id]))
    }

    @Test func logicalMessagesInAndOutsideTransactions() throws {
        let messages = try loadFixture("messages.txt")
        let outside = try #require(messages[0].message.logicalMessage)
        #expect(outside.xid == nil)
        #expect(!outside.transactional)
        #expect(outside.prefix == "walbridge.test")
        #expect(outside.content == Array("not in a transaction".utf8))
        #expect(outside.lsn == messages[0].lsn)
        let begin = try #require(messages[1].message.begin)
        let inside = try #require(messages[2].message.logicalMessage)
        #expect(inside.transactional)
        #expect(inside.prefix == "walbridge.test")
        #expect(inside.content == Array("in a transaction".utf8))
        #expect(inside.lsn < begin.finalLSN)
        #expect(messages[4].message.insert?.new == [.string("after message")])
        #expect(messages[5].message.commit?.commitLSN == begin.finalLSN)
    }

    @Test func originFollowsBegin() throws {
        let messages = try loadFixture("origin.txt")
        let begin = try #require(messages[0].message.begin)
        // pg_replication_origin_xact_setup's timestamp becomes the commit time.
        #expect(begin.commitTime == utc(2024, 5, 6, 7, 8, 9))
        let origin = try #require(messages[1].message.origin)
        #expect(origin == Origin(commitLSN: LSN(0xABCD_EF01), name: "upstream_a"))
        #expect(messages[3].message.insert?.new == [.string("replicated")])
        #expect(messages[4].message.commit?.commitTime == begin.commitTime)
    }

    @Test func binaryValuesUseSendFormats() throws {
        let messages = try loadFixture("binary.txt")
        let mood = try #require(messages[1].message.type)
        #expect(mood.name == "mood")
        let relation = try #require(messages[2].message.relation)
        #expect(relation.columns.map(\.name) == ["id", "big", "label", "ok", "raw", "feeling", "missing"])
        let insert = try #require(messages[3].message.insert)
        #expect(insert.new == [
            .binary([0, 0, 1, 2]),
            .binary([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]),
            .binary(ArraySlice("hi".utf8)),
            .binary([1]),
            .binary([0xDE, 0xAD, 0xBE, 0xEF]),
            .binary(ArraySlice("ok".utf8)),
            .null,
        ])
    }
}
