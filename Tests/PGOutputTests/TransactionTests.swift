import PGOutput
import Testing

/// Begin, Commit, Insert, Update and Delete from a default-identity table (dml.txt).
@Suite struct TransactionTests {
    let messages: [FixtureMessage]
    init() throws { messages = try loadFixture("dml.txt") }

    @Test func fourTransactionsEachBeginAndCommit() throws {
        let begins = messages.compactMap(\.message.begin)
        let commits = messages.compactMap(\.message.commit)
        #expect(begins.count == 4)
        #expect(commits.count == 4)
        for (begin, commit) in zip(begins, commits) {
            #expect(commit.commitLSN == begin.finalLSN)
            #expect(commit.endLSN > commit.commitLSN)
            #expect(commit.commitTime == begin.commitTime)
            #expect(commit.flags == 0)
            #expect(isPlausible(begin.commitTime))
        }
        // Later transactions commit later.
        #expect(begins.map(\.finalLSN) == begins.map(\.finalLSN).sorted())
        #expect(Set(begins.map(\.xid)).count == 4)
    }

    @Test func beginXIDAndCommitEndMatchTheSlot() throws {
        for entry in messages {
            if let begin = entry.message.begin { #expect(begin.xid == entry.xid) }
            // The SQL interface reports a commit at its end LSN.
            if let commit = entry.message.commit { #expect(commit.endLSN == entry.lsn) }
        }
    }

    @Test func relationDescribesColumnsTypesAndModifiers() throws {
        let relation = try #require(messages[1].message.relation)
        #expect(relation.xid == nil)
        #expect(relation.namespace == "public")
        #expect(relation.name == "users")
        #expect(relation.replicaIdentity == .default)
        #expect(relation.columns == [
            RelationColumn(isKey: true, name: "id", typeOID: 20, typeModifier: -1),
            RelationColumn(isKey: false, name: "name", typeOID: 25, typeModifier: -1),
            // varchar(20): 20 + VARHDRSZ.
            RelationColumn(isKey: false, name: "email", typeOID: 1043, typeModifier: 24),
            // numeric(10,2): (10 << 16 | 2) + VARHDRSZ.
            RelationColumn(isKey: false, name: "balance", typeOID: 1700, typeModifier: (10 << 16 | 2) + 4),
            RelationColumn(isKey: false, name: "active", typeOID: 16, typeModifier: -1),
        ])
    }

    @Test func insertsCarryTextValuesAndNulls() throws {
        let relation = try #require(messages[1].message.relation)
        let alice = try #require(messages[2].message.insert)
        let bob = try #require(messages[3].message.insert)
        #expect(alice == Insert(xid: nil, relationID: relation.id, new: [
            .string("1"), .string("alice"), .string("alice@example.com"), .string("12.50"), .string("t"),
        ]))
        #expect(bob.relationID == relation.id)
        #expect(bob.new == [.string("2"), .string("bob"), .null, .null, .null])
    }

    @Test func updateWithoutKeyChangeHasNoOldTuple() throws {
        let update = try #require(messages[6].message.update)
        #expect(update.old == nil)
        #expect(update.new == [
            .string("1"), .string("alice b"), .string("alice@example.com"), .string("12.50"), .string("t"),
        ])
    }

    @Test func updateThatChangesTheKeySendsTheOldKey() throws {
        let update = try #require(messages[9].message.update)
        #expect(update.old == OldTuple(kind: .key, values: [.string("2"), .null, .null, .null, .null]))
        #expect(update.new == [.string("3"), .string("bob"), .null, .null, .null])
    }

    @Test func deleteSendsTheOldKey() throws {
        let delete = try #require(messages[12].message.delete)
        #expect(delete.xid == nil)
        #expect(delete.old == OldTuple(kind: .key, values: [.string("3"), .null, .null, .null, .null]))
    }
}

/// Old tuples under REPLICA IDENTITY FULL, USING INDEX and NOTHING.
@Suite struct ReplicaIdentityTests {
    @Test func fullIdentitySendsWholeOldRows() throws {
        let messages = try loadFixture("identity-full.txt")
        let relation = try #require(messages[1].message.relation)
        #expect(relation.name == "accounts")
        #expect(relation.replicaIdentity == .full)
        #expect(relation.columns.map(\.isKey) == [true, true, true])
        #expect(relation.columns.map(\.typeOID) == [23, 25, 25])
        let update = try #require(messages[2].message.update)
        #expect(update.relationID == relation.id)
        #expect(update.old == OldTuple(kind: .full, values: [.string("7"), .string("carol"), .null]))
        #expect(update.new == [.string("7"), .string("dave"), .null])
        let delete = try #require(messages[5].message.delete)
        #expect(delete.old == OldTuple(kind: .full, values: [.string("7"), .string("dave"), .null]))
    }

    @Test func indexIdentityFlagsTheIndexColumns() throws {
        let messages = try loadFixture("identity-index.txt")
        let devices = try #require(messages[1].message.relation)
        #expect(devices.replicaIdentity == .index)
        #expect(devices.columns.map(\.name) == ["serial", "vendor", "label"])
        #expect(devices.columns.map(\.isKey) == [true, true, false])
        let update = try #require(messages[2].message.update)
        #expect(update.old == OldTuple(kind: .key, values: [.string("SN-1"), .string("acme"), .null]))
        #expect(update.new == [.string("SN-2"), .string("acme"), .string("lab")])
        let delete = try #require(messages[5].message.delete)
        #expect(delete.old == OldTuple(kind: .key, values: [.string("SN-2"), .string("acme"), .null]))
    }

    @Test func nothingIdentityHasNoKeyColumns() throws {
        let messages = try loadFixture("identity-index.txt")
        let events = try #require(messages[8].message.relation)
        #expect(events.name == "events")
        #expect(events.replicaIdentity == .nothing)
        #expect(events.columns.map(\.isKey) == [false, false])
        let insert = try #require(messages[9].message.insert)
        #expect(insert.relationID == events.id)
        #expect(insert.new == [.string("1"), .string("boot")])
    }
}
