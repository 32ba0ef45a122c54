import PGOutput
import Testing
@testable import WALBridge

@Suite("TransactionReader")
struct TransactionReaderTests {
    static let plan = usersPlan()

    /// `public.users` (id bigint, name text) mapped to `public.users_v2`, with `extra` lines added to the target.
    static func usersPlan(extra: String = "") -> MappingPlan {
        let configuration = try! Configuration.parse(yaml: """
            slot: s
            publication: p
            tables:
              public.users:
                - into: public.users_v2
                  key: [id]
                  columns: {id: id, full_name: name}
            """ + extra, file: "t.yml", environment: ["WALBRIDGE_SOURCE": "host=a", "WALBRIDGE_TARGET": "host=b"])
        let info = SourceTableInfo(
            table: TableName(schema: "public", name: "users"), oid: 16384,
            columns: [
                SourceColumn(name: "id", typeOID: 20, typeSQL: "bigint"),
                SourceColumn(name: "name", typeOID: 25, typeSQL: "text")
            ],
            replicaIdentity: "d", primaryKey: ["id"], identityColumns: ["id"])
        return try! MappingPlan.build(configuration, sourceTables: [info.table: info], sameDatabase: false)
    }

    static let relation = PGOutputMessage.relation(Relation(
        xid: nil, id: 16384, namespace: "public", name: "users", replicaIdentity: .default,
            columns: [
                RelationColumn(isKey: true, name: "id", typeOID: 20, typeModifier: -1),
                RelationColumn(isKey: false, name: "name", typeOID: 25, typeModifier: -1)
            ]))

    static func text(_ value: String) -> TupleValue { .text(ArraySlice(value.utf8)) }

    static func insert(_ id: String, xid: UInt32? = nil) -> PGOutputMessage {
        .insert(Insert(xid: xid, relationID: 16384, new: [text(id), text("n")]))
    }

    static func mark(_ edge: BackfillMark.Edge, seq: Int = 1) -> PGOutputMessage {
        let content = BackfillMark(edge: edge, seq: seq, source: 0, run: "r", slot: "s").content
        return .message(
            LogicalMessage(
                xid: nil, transactional: false, lsn: .zero, prefix: BackfillMark.prefix, content: Array(content.utf8)))
    }

    /// The events of `messages`, fed one by one at growing positions.
    static func events(_ messages: [PGOutputMessage]) throws -> [ApplyEvent] {
        var reader = TransactionReader(plan: plan, slot: "s", checkpoint: .zero, backfillRun: "r")
        var events: [ApplyEvent] = []
        for (index, message) in messages.enumerated() {
            events += try reader.consume(.message(LSN(UInt64(100 + index * 10)), message))
        }
        return events
    }

    static func windows(_ events: [ApplyEvent]) -> [BackfillWindow] {
        events.compactMap { if case .backfillWindow(let window) = $0 { window } else { nil } }
    }

    @Test("""
        a chunk window opened while a streamed transaction is open is not trusted, even when it \
        commits inside the window
        """)
    func windowOpenedInsideStream() throws {
        let commit = PGOutputMessage.streamCommit(
            StreamCommit(
                xid: 900, flags: 0, commitLSN: LSN(150), endLSN: LSN(160), commitTime: PGTimestamp(rawValue: 0)))
        let events = try Self.events([
            Self.relation, .streamStart(StreamStart(xid: 900, firstSegment: true)), Self.insert("1", xid: 900),
            .streamStop,
            Self.mark(.low), commit, Self.mark(.high),
        ])
        #expect(Self.windows(events).map(\.interrupted) == [true])
        #expect(events.first == .streamStart, "the applier hears that a streamed transaction begins")
    }

    @Test(
        "a window with no streamed transaction at either watermark is trusted, and records the keys changed inside it")
    func plainWindow() throws {
        let begin = PGOutputMessage.begin(Begin(finalLSN: LSN(150), commitTime: PGTimestamp(rawValue: 0), xid: 901))
        let commit = PGOutputMessage.commit(
            Commit(flags: 0, commitLSN: LSN(150), endLSN: LSN(160), commitTime: PGTimestamp(rawValue: 0)))
        let windows = Self.windows(
            try Self.events([Self.relation, Self.mark(.low), begin, Self.insert("7"), commit, Self.mark(.high)]))
        #expect(windows.map(\.interrupted) == [false])
        #expect(windows.first?.touched == [RowKey([Self.text("7")], at: [0])])
    }
    static let streamCommit = PGOutputMessage.streamCommit(
        StreamCommit(xid: 900, flags: 0, commitLSN: LSN(500), endLSN: LSN(510), commitTime: PGTimestamp(rawValue: 0)))

    /// A transaction of xid 901, sent whole, with `body` between its Begin and Commit.
    static func whole(_ body: [PGOutputMessage]) -> [PGOutputMessage] {
        [.begin(Begin(finalLSN: LSN(300), commitTime: PGTimestamp(rawValue: 0), xid: 901))] + body
            + [.commit(Commit(flags: 0, commitLSN: LSN(300), endLSN: LSN(310), commitTime: PGTimestamp(rawValue: 0)))]
    }

    @Test("""
        a transaction sent whole starts with its xid, so that rows read back before its commit reaches \
        the applier wait for it
        """)
    func wholeTransactionStartsWithItsXid() throws {
        let events = try Self.events([Self.relation] + Self.whole([Self.insert("7")]))
        #expect(events.first == .begin(xid: 901))
        #expect(events.count == 3, "begin, change, commit")
    }

    @Test("""
        a transaction without mapped changes that commits while a streamed one is open is passed \
        over; streaming goes on
        """)
    func unmappedTransactionInsideStream() throws {
        let flush = PGOutputMessage.message(
            LogicalMessage(xid: 901, transactional: true, lsn: .zero, prefix: BackfillMark.prefix, content: []))
        let events = try Self.events([
            Self.relation, .streamStart(StreamStart(xid: 900, firstSegment: true)), Self.insert("1", xid: 900),
            .streamStop
        ] + Self.whole([flush]) + [
            .streamStart(StreamStart(xid: 900, firstSegment: false)), Self.insert("2", xid: 900), .streamStop,
            Self.streamCommit
        ])
        let commits = events.compactMap { if case .commit(let end) = $0 { end.xid } else { nil } }
        #expect(commits == [900], "only the streamed transaction commits")
        #expect(events.filter { if case .change = $0 { true } else { false } }.count == 2)
    }

    @Test("""
        a transaction with a mapped change that commits while a streamed one is open asks for the \
        replay without streaming
        """)
    func mappedChangeInsideStream() throws {
        #expect(throws: StreamingFallback.self) {
            try Self.events([
                Self.relation, .streamStart(StreamStart(xid: 900, firstSegment: true)), Self.insert("1", xid: 900),
                .streamStop
            ] + Self.whole([Self.insert("7")]))
        }
    }

    @Test("the bridge's own transaction inside a streamed one of its own: both are skipped, before and after")
    func ownTransactionInsideOwnStream() throws {
        let own = PGOutputMessage.message(
            LogicalMessage(
                xid: 900, transactional: true, lsn: .zero, prefix: TransactionReader.markerPrefix,
                content: Array("s".utf8)))
        let ownWhole = PGOutputMessage.message(
            LogicalMessage(
                xid: 901, transactional: true, lsn: .zero, prefix: TransactionReader.markerPrefix,
                content: Array("s".utf8)))
        let events = try Self.events([
            Self.relation, .streamStart(StreamStart(xid: 900, firstSegment: true)), own, Self.insert("1", xid: 900),
            .streamStop
        ] + Self.whole([ownWhole, Self.insert("7")]) + [
            .streamStart(StreamStart(xid: 900, firstSegment: false)), Self.insert("2", xid: 900), .streamStop,
            Self.streamCommit
        ])
        #expect(
            !events.contains { if case .change = $0 { true } else { false } },
            "no change of the bridge's own writes is applied")
    }
    @Test("a pause position that a keepalive passes while a streamed transaction is open stops the reader there")
    func stopInsideOpenStream() throws {
        var reader = TransactionReader(plan: Self.plan, slot: "s", checkpoint: .zero, backfillRun: "r")
        reader.stopAfter = LSN(200)
        for (index, message) in [
            Self.relation, .streamStart(StreamStart(xid: 900, firstSegment: true)), Self.insert("1", xid: 900),
            .streamStop
        ].enumerated() {
            _ = try reader.consume(.message(LSN(UInt64(100 + index * 10)), message))
        }
        #expect(
            try reader.consume(.keepalive(
                PrimaryKeepalive(walEnd: LSN(150), sendTime: PGTimestamp(rawValue: 0), replyRequested: false)
            )) == [.idle(LSN(150))])
        #expect(!reader.stopped, "the stream may still commit at or before the stop")
        _ = try reader.consume(
            .keepalive(PrimaryKeepalive(walEnd: LSN(300), sendTime: PGTimestamp(rawValue: 0), replyRequested: false)))
        #expect(reader.stopped, "the open streamed transaction commits after 300, past the stop")
    }
    @Test("""
        a keepalive inside an open streamed transaction moves the position; inside a transaction sent \
        whole within it, it does not
        """)
    func keepaliveInsideOpenStream() throws {
        var reader = TransactionReader(plan: Self.plan, slot: "s", checkpoint: .zero)
        let keepalive = { (lsn: UInt64) in
            StreamItem.keepalive(
                PrimaryKeepalive(walEnd: LSN(lsn), sendTime: PGTimestamp(rawValue: 0), replyRequested: false))
        }
        for message in [
            Self.relation, .streamStart(StreamStart(xid: 900, firstSegment: true)), Self.insert("1", xid: 900),
            .streamStop
        ] {
            _ = try reader.consume(.message(LSN(100), message))
        }
        #expect(
            try reader.consume(keepalive(200)) == [.idle(LSN(200))],
            "every commit before 200 was seen; the streamed one commits later")
        _ = try reader.consume(.message(LSN(290), Self.whole([])[0]))
        #expect(try reader.consume(keepalive(295)).isEmpty, "a transaction sent whole is under way")
    }

    @Test("""
        a high watermark while a streamed transaction is open asks for the replay without streaming, \
        so the backfill goes on
        """)
    func highWatermarkInsideStream() throws {
        #expect(throws: StreamingFallback.self) {
            try Self.events([
                Self.relation, Self.mark(.low), .streamStart(StreamStart(xid: 900, firstSegment: true)),
                Self.insert("1", xid: 900), .streamStop, Self.mark(.high)
            ])
        }
    }

    @Test("""
        a cut-over's nudge for this slot asks for the control row at once; another slot's nudge and its own marker do \
        not; the other direction's marker skips its transaction
        """)
    func nudgesAndPartnerMarkers() throws {
        func message(_ prefix: String, _ content: String, xid: UInt32) -> PGOutputMessage {
            .message(
                LogicalMessage(xid: xid, transactional: true, lsn: .zero, prefix: prefix, content: Array(content.utf8)))
        }
        var reader = TransactionReader(
            plan: Self.plan, slot: "s", partnerSlot: "s_reverse", checkpoint: .zero, backfillRun: "r")
        var events: [ApplyEvent] = []
        let feed = [Self.relation] + Self.whole([message(TransactionReader.nudgePrefix, "other", xid: 0)])
        for (index, item) in feed.enumerated() {
            events += try reader.consume(.message(LSN(UInt64(100 + index * 10)), item))
        }
        #expect(!reader.nudged, "another slot's nudge")
        for (index, item) in Self.whole([message(TransactionReader.nudgePrefix, "s", xid: 0)]).enumerated() {
            events += try reader.consume(.message(LSN(UInt64(300 + index * 10)), item))
        }
        #expect(reader.nudged, "this slot's nudge")
        for (index, item) in Self.whole([message(TransactionReader.markerPrefix, "s_reverse", xid: 0), Self.insert("5")]
        ).enumerated() {
            events += try reader.consume(.message(LSN(UInt64(500 + index * 10)), item))
        }
        #expect(
            !events.contains { if case .change = $0 { true } else { false } },
            "the reverse direction's write is skipped")
    }
}
