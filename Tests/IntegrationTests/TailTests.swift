import Foundation
import Logging
import PGClient
import PGOutput
import Testing
@testable import WALBridge

/// Collects what a running tail emits, for a test to wait on.
actor EventLog {
    private(set) var events: [ChangeEvent] = []
    private(set) var started = false

    func markStarted() { started = true }
    func append(_ batch: [ChangeEvent]) { events += batch }
}

@Suite("walbridge tail against a live source")
struct TailTests {
    static let bigText = String(repeating: "0123456789abcdefghijklmnopqrstuvwxyz", count: 2800).prefix(100_000)

    @Test("inserts, updates, deletes, truncate and messages arrive in commit order with exact values")
    func tailSeesEveryKindOfChange() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { db in
            let app = try await PGConnection.connect(db)
            try await app.simpleQuery("""
                CREATE TABLE items (id int PRIMARY KEY, label text, note text, data bytea, amount numeric(12,3),
                                    at timestamptz, tags text[], doc jsonb, big text, flag boolean);
                ALTER TABLE items ALTER COLUMN big SET STORAGE EXTERNAL;
                CREATE TABLE other (id int PRIMARY KEY);
                CREATE PUBLICATION tp FOR TABLE items, other;
                """)
            let log = EventLog()
            let tail = Tail(
                options: TailOptions(source: try DatabaseAddress(db.raw), publications: ["tp"]),
                logger: Logger(label: "test"))
            let task = Task {
                try await tail.run(onStart: { _, _ in await log.markStarted() }, onChanges: { await log.append($0) })
            }
            #expect(await TestClusters.eventually { await log.started })

            try await app.query("""
                INSERT INTO items VALUES (1, NULL, '', '\\x00ff10'::bytea, 12345.678, '2026-11-21 10:04:05.123456+00',
                                          '{a,"b c",NULL}', '{"k": [1, "two", null]}', $1, true)
                """, [String(Self.bigText)])
            try await app.query(
                "INSERT INTO items (id, label, flag) VALUES (2, $1, false)", ["héllo wörld ✓ 日本"])
            try await app.query("UPDATE items SET note = 'changed' WHERE id = 1")
            try await app.query("UPDATE items SET id = 10 WHERE id = 2")
            try await app.query("DELETE FROM items WHERE id = 10")
            // Commit order, not start order: B starts after A but commits first.
            let other = try await PGConnection.connect(db)
            try await app.simpleQuery("BEGIN; INSERT INTO other VALUES (100)")
            try await other.simpleQuery("BEGIN; INSERT INTO other VALUES (200); INSERT INTO other VALUES (201); COMMIT")
            try await app.simpleQuery("COMMIT")
            try await app.simpleQuery("TRUNCATE other")
            try await app.query("SELECT pg_logical_emit_message(true, 'walbridge-test', 'hello')")

            #expect(await TestClusters.eventually { await log.events.count >= 10 })
            task.cancel()
            try await task.value
            let events = await log.events
            try #require(events.count == 10)

            #expect(
                events.map(\.operation) == [
                    .insert, .insert, .update, .update, .delete, .insert, .insert, .insert, .truncate, .message
                ])
            #expect(
                events.map { $0.relation?.name } == [
                    "items", "items", "items", "items", "items", "other", "other", "other", "other", nil
                ])
            func text(_ value: TupleValue?) -> String? {
                if case .text(let bytes) = value { return String(decoding: bytes, as: UTF8.self) }
                return nil
            }
            let first = try #require(events[0].new)
            #expect(first[0] == .text(ArraySlice("1".utf8)))
            #expect(first[1] == .null)
            #expect(first[2] == .text([]))
            #expect(text(first[3]) == "\\x00ff10")
            #expect(text(first[4]) == "12345.678")
            #expect(text(first[5]) == "2026-11-21 10:04:05.123456+00")
            #expect(text(first[6]) == "{a,\"b c\",NULL}")
            #expect(text(first[7]) == "{\"k\": [1, \"two\", null]}")
            #expect(text(first[8]) == String(Self.bigText))
            #expect(text(events[1].new?[1]) == "héllo wörld ✓ 日本")

            // The update of another column does not carry the 100 kB value: unchanged TOAST, not NULL.
            #expect(events[2].new?[8] == .unchangedToast)
            #expect(text(events[2].new?[2]) == "changed")
            #expect(events[2].json.contains("\"big\":{\"unchanged_toast\":true}"))
            // The key change carries the old key.
            #expect(events[3].old?.kind == .key)
            #expect(text(events[3].old?.values[0]) == "2")
            #expect(text(events[3].new?[0]) == "10")
            #expect(text(events[4].old?.values[0]) == "10")

            // 200 and 201 share a transaction, committed before 100's.
            #expect(events[5...7].map { text($0.new?[0]) } == ["200", "201", "100"])
            #expect(events[5].xid == events[6].xid)
            #expect(events[5].xid != events[7].xid)
            #expect(events[7].lsn < events[5].lsn, "100 was written first but shown after 200 and 201")
            #expect(events[9].message?.prefix == "walbridge-test")
            #expect(events[9].message?.content == Array("hello".utf8))
            #expect(events.allSatisfy { $0.commitTime != nil && $0.xid != nil })

            // The JSON form parses, with numbers, booleans, NULL and strings as such.
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data(events[0].json.utf8)) as? [String: Any])
            #expect(object["op"] as? String == "insert")
            #expect(object["table"] as? String == "public.items")
            #expect((object["commit_time"] as? String)?.hasSuffix("Z") == true)
            let new = try #require(object["new"] as? [String: Any])
            #expect(new["id"] as? Int == 1)
            #expect(new["label"] is NSNull)
            #expect(new["note"] as? String == "")
            #expect(new["flag"] as? Bool == true)
            #expect((new["big"] as? String)?.count == 100_000)
            #expect(events[8].json.contains("\"cascade\":false"))
            #expect(events[3].text.contains("(old: id=2)"))
        }
    }

    @Test("the temporary slot advances while tailing and is gone afterwards")
    func temporarySlotIsAcknowledgedAndDropped() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { db in
            let app = try await PGConnection.connect(db)
            try await app.simpleQuery("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION p FOR TABLE t")
            let log = EventLog()
            var options = TailOptions(source: try DatabaseAddress(db.raw), publications: ["p"])
            options.statusInterval = .milliseconds(200)
            let tail = Tail(options: options, logger: Logger(label: "test"))
            let task = Task {
                try await tail.run(onStart: { _, _ in await log.markStarted() }, onChanges: { await log.append($0) })
            }
            #expect(await TestClusters.eventually { await log.started })
            let start = try await app.query(
                "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name LIKE 'walbridge_tail_%'").scalar
            try await app.query("INSERT INTO t SELECT generate_series(1, 100)")
            #expect(await TestClusters.eventually { await log.events.count == 100 })
            let advanced = await TestClusters.eventually {
                let now = try? await app.query(
                    "SELECT confirmed_flush_lsn > $1::pg_lsn FROM pg_replication_slots WHERE slot_name "
                        + "LIKE 'walbridge_tail_%'",
                    [start ?? "0/0"]).scalar
                return now == "t"
            }
            #expect(advanced, "the temporary slot's confirmed position moves past the printed changes")
            task.cancel()
            try await task.value
            #expect(await TestClusters.eventually {
                    (try? await app.query(
                        "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'walbridge_tail_%'"
                    ).scalar) == "0"
            })
        }
    }

    @Test("answers the server's reply-requested keepalives at once, between periodic status updates")
    func answersKeepaliveRequests() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { db in
            let app = try await PGConnection.connect(db)
            try await app.simpleQuery("CREATE TABLE t (id int PRIMARY KEY); CREATE PUBLICATION p FOR TABLE t")
            // With wal_sender_timeout = 4 s the walsender asks for a reply after 2 s of silence and
            // ends the session if none comes; periodic updates are pushed out of the way (60 s).
            let impatient = try DatabaseAddress(db.raw + " options='-c wal_sender_timeout=4000'")
            var options = TailOptions(source: impatient, publications: ["p"])
            options.statusInterval = .seconds(60)
            let log = EventLog()
            let tail = Tail(options: options, logger: Logger(label: "test"))
            let task = Task {
                try await tail.run(onStart: { _, _ in await log.markStarted() }, onChanges: { await log.append($0) })
            }
            #expect(await TestClusters.eventually { await log.started })
            try await Task.sleep(for: .seconds(8))
            try await app.query("INSERT INTO t VALUES (1)")
            #expect(await TestClusters.eventually(timeout: .seconds(10)) { await log.events.count == 1 },
                    "the stream is still alive after 8 s of silence")
            task.cancel()
            try await task.value
        }
    }
}
