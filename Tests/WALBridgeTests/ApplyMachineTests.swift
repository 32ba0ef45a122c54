import PGClient
import PGOutput
import Testing
@testable import WALBridge

@Suite("ApplyMachine")
struct ApplyMachineTests {
    static let plan = TransactionReaderTests.plan

    static func machine(
        sliceRows: Int = 100, sliceBytes: Int = 1 << 20, batchRows: Int = 100, markWrites: Bool = false,
        chunkSessions: Bool = false, orderedThrough: LSN? = nil
    ) -> ApplyMachine {
        var limits = ApplyLimits()
        limits.sliceRows = sliceRows
        limits.sliceBytes = sliceBytes
        limits.batchRows = batchRows
        limits.batchTime = .seconds(3600)
        let start = ContinuousClock.now
        return ApplyMachine(
            plan: plan, limits: limits, markWrites: markWrites, chunkSessions: chunkSessions, counting: false,
            durable: LSN(10), orderedThrough: orderedThrough, now: { start })
    }

    static func insert(_ id: String, _ name: String = "n", at lsn: UInt64) -> ApplyEvent {
        .change(
            source: 0, RowChange(kind: .insert, new: [text(id), text(name)], old: nil, oldIsFull: false, lsn: LSN(lsn)))
    }

    static func update(_ id: String, _ name: String, at lsn: UInt64) -> ApplyEvent {
        .change(
            source: 0, RowChange(kind: .update, new: [text(id), text(name)], old: nil, oldIsFull: false, lsn: LSN(lsn)))
    }

    static func commit(_ xid: UInt32, at lsn: UInt64) -> ApplyEvent {
        .commit(TransactionEnd(xid: xid, commitLSN: LSN(lsn - 1), endLSN: LSN(lsn), commitTime: nil))
    }

    static func text(_ value: String) -> TupleValue { .text(ArraySlice(value.utf8)) }

    static let progress = ChunkProgress(
        table: TableName(schema: "public", name: "users"), request: 0, lastKey: ["9"], rows: 1, done: true)

    /// Every action of the events, then of a quiet moment.
    static func run(_ machine: inout ApplyMachine, _ events: [ApplyEvent], quiet: Bool = true) -> [ApplyAction] {
        var actions: [ApplyAction] = []
        for event in events { actions += machine.handle(event) }
        return quiet ? actions + machine.quiet() : actions
    }

    static func commits(_ actions: [ApplyAction]) -> [ApplyAction.Commit] {
        actions.compactMap { if case .commit(let commit) = $0 { commit } else { nil } }
    }

    static func slices(_ actions: [ApplyAction]) -> [ApplyAction.Slice] {
        actions.compactMap { if case .write(let slice) = $0 { slice } else { nil } }
    }

    /// Index of the first action matching.
    static func first(_ actions: [ApplyAction], _ match: (ApplyAction) -> Bool) -> Int? {
        actions.firstIndex(where: match)
    }

    @Test("""
        source transactions share one target transaction, folded per row; the position moves only \
        once its COMMIT settles
        """)
    func batchesAndFolds() throws {
        var machine = Self.machine()
        let actions = Self.run(&machine, [
            .begin(xid: 100), Self.insert("1", at: 20), Self.commit(100, at: 30),
            .begin(xid: 101), Self.update("1", "b", at: 40), Self.insert("2", at: 41), Self.commit(101, at: 50),
        ])
        #expect(actions.filter { $0 == .begin }.count == 1)
        let commits = Self.commits(actions)
        #expect(commits.count == 1)
        #expect(commits[0].checkpoint.endLSN == LSN(50) && commits[0].checkpoint.commitLSN == LSN(49))
        #expect(commits[0].rows == 3)
        let slices = Self.slices(actions)
        #expect(slices.count == 1)
        #expect(slices[0].rows.map(\.rows.count) == [2], "key 1's insert and update fold to one row")
        #expect(slices[0].rows[0].rows[0].values[1] == Self.text("b"))
        let commit = try #require(Self.first(actions) { if case .commit = $0 { true } else { false } })
        let advance = try #require(Self.first(actions) { $0 == .advance(LSN(50)) })
        let settle = try #require(actions[commit...].firstIndex(of: .settle))
        #expect(commit < settle && settle < advance, "reported only after the COMMIT was waited for: \(actions)")
        #expect(machine.durable == LSN(50))
    }

    @Test("a source transaction is never split: the batch limit commits only at a source commit")
    func neverSplits() throws {
        var machine = Self.machine(sliceRows: 2, batchRows: 2)
        let changes = (1...5).map { Self.insert("\($0)", at: UInt64(20 + $0)) }
        let inside = Self.run(&machine, [.begin(xid: 100)] + changes, quiet: false)
        #expect(Self.commits(inside).isEmpty)
        #expect(Self.slices(inside).count == 2, "slices of 2 rows are written inside the open transaction")
        #expect(machine.midTransaction)
        let end = machine.handle(Self.commit(100, at: 40))
        #expect(Self.commits(end).map(\.checkpoint.endLSN) == [LSN(40)])
        #expect(Self.commits(end)[0].rows == 5)
    }

    @Test("wide rows make slices smaller: a slice is written once its values hold sliceBytes, whatever the row count")
    func wideRowsSliceByBytes() throws {
        var machine = Self.machine(sliceRows: 100, sliceBytes: 3000)
        let wide = String(repeating: "x", count: 1000)
        let changes = (1...7).map { Self.insert("\($0)", wide, at: UInt64(20 + $0)) }
        let inside = Self.run(&machine, [.begin(xid: 100)] + changes, quiet: false)
        #expect(
            Self.slices(inside).map { $0.rows.map(\.rows.count) } == [[3], [3]],
            "two slices of three 1 KB rows inside the transaction")
        let end = Self.run(&machine, [Self.commit(100, at: 40)])
        #expect(Self.slices(end).map { $0.rows.map(\.rows.count) } == [[1]], "the last row goes with the commit")
        #expect(Self.commits(end).map(\.rows) == [7])
    }

    @Test("rows read back wait for the pending transactions and for the one sent whole that is being applied")
    func readBackSeesItsTransactions() throws {
        var machine = Self.machine(sliceRows: 1)
        let first = Self.run(&machine, [.begin(xid: 7000), Self.insert("1", at: 20)], quiet: false)
        #expect(
            Self.slices(first).map(\.visible) == [[7000]], "its commit is in the stream, the source may not show it yet"
        )
        var batched = Self.machine(sliceRows: 2)
        let both = Self.run(&batched, [
                .begin(xid: 7000), Self.insert("1", at: 20), Self.commit(7000, at: 30), .begin(xid: 7001),
                Self.insert("2", at: 31),
        ], quiet: false)
        #expect(Self.slices(both).map(\.visible) == [[7000, 7001]])
    }

    @Test("a transaction with nothing to apply moves the position only after the target recorded it")
    func emptyTransactionIsRecordedFirst() throws {
        var machine = Self.machine()
        let actions = Self.run(&machine, [.begin(xid: 100), Self.commit(100, at: 60)])
        #expect(actions == [.recordQuiet(LSN(60)), .advance(LSN(60))])
        var idle = Self.machine()
        #expect(idle.handle(.idle(LSN(70))) == [.recordQuiet(LSN(70)), .advance(LSN(70))])
        #expect(idle.handle(.idle(LSN(70))) == [], "recorded and reported once")
    }

    @Test("where the target is the source, nothing is recorded at quiet points: it would move the source's WAL")
    func sameDatabaseAdvancesUnrecorded() throws {
        var machine = Self.machine(markWrites: true)
        #expect(Self.run(&machine, [.begin(xid: 100), Self.commit(100, at: 60)]) == [.advance(LSN(60))])
    }

    @Test("a streamed transaction gets a target transaction of its own, its slices marked as not yet committed")
    func streamedTransactionStandsAlone() throws {
        var machine = Self.machine(sliceRows: 1)
        let before = Self.run(
            &machine, [.begin(xid: 100), Self.insert("1", at: 20), Self.commit(100, at: 30)], quiet: false)
        #expect(Self.commits(before).isEmpty)
        let start = machine.handle(.streamStart)
        #expect(Self.commits(start).map(\.checkpoint.endLSN) == [LSN(30)], "the batch before it commits first")
        let inside = Self.run(&machine, [Self.insert("2", at: 40)], quiet: false)
        #expect(Self.slices(inside).map(\.streamed) == [true])
        let after = Self.run(
            &machine, [Self.commit(200, at: 50), .begin(xid: 201), Self.insert("3", at: 60)], quiet: false)
        #expect(Self.slices(after).map(\.streamed) == [false])
    }

    @Test("""
        while a streamed transaction is open, an idle position is recorded aside, then reported; its commit moves it on
        """)
    func idleInsideStream() throws {
        var machine = Self.machine(sliceRows: 1)
        _ = machine.handle(.streamStart)
        _ = Self.run(&machine, [Self.insert("2", at: 40)], quiet: false)
        let idle = machine.handle(.idle(LSN(90)))
        #expect(idle.filter { if case .recordAside = $0 { true } else { false } } == [.recordAside(LSN(90))])
        #expect(idle.last == .advance(LSN(90)), "reported once recorded")
        #expect(machine.handle(.idle(LSN(90))).isEmpty, "nothing twice")
        let commit = Self.run(&machine, [Self.commit(200, at: 120)])
        #expect(Self.commits(commit).map(\.checkpoint.endLSN) == [LSN(120)])
        var marking = Self.machine(sliceRows: 1, markWrites: true)
        _ = marking.handle(.streamStart)
        _ = Self.run(&marking, [Self.insert("2", at: 40)], quiet: false)
        #expect(marking.handle(.idle(LSN(90))).isEmpty, "where the target is the source, nothing is recorded")
    }

    @Test("""
        ordered replay applies one change at a time, commits each source transaction, and goes back \
        to batches past the fault
        """)
    func orderedReplay() throws {
        var machine = Self.machine(orderedThrough: LSN(40))
        let actions = Self.run(&machine, [
            .begin(xid: 100), Self.insert("1", at: 20), Self.insert("2", at: 21), Self.commit(100, at: 30),
            .begin(xid: 101), Self.insert("3", at: 35), Self.commit(101, at: 45),
        ], quiet: false)
        let ones = actions.filter { if case .applyOne = $0 { true } else { false } }
        #expect(ones.count == 3)
        #expect(Self.commits(actions).map(\.checkpoint.endLSN) == [LSN(30), LSN(45)])
        #expect(
            actions.contains(.advance(LSN(30))) && actions.contains(.advance(LSN(45))),
            "each commit is waited for at once")
        #expect(actions.last == .orderedReplayDone(LSN(45)))
        #expect(
            machine.mode == .ordered(through: LSN(40)), "a failure of that last COMMIT still belongs to ordered replay")
        let batched = Self.run(&machine, [.begin(xid: 102), Self.insert("4", at: 50)], quiet: false)
        #expect(machine.mode == .batched)
        #expect(Self.slices(batched).isEmpty && !batched.contains { if case .applyOne = $0 { true } else { false } })
    }

    @Test("a backfill chunk is one more transaction: its rows are upserts, its progress commits with them")
    func backfillChunkThroughTheBatch() throws {
        var machine = Self.machine()
        let chunk = BackfillChunk(
            source: 0, rows: [[Self.text("9"), Self.text("x")]], lsn: LSN(80), progress: Self.progress)
        let actions = Self.run(&machine, [.backfill(chunk)])
        let commits = Self.commits(actions)
        #expect(commits.count == 1)
        #expect(commits[0].chunks == [Self.progress])
        #expect(commits[0].checkpoint == Checkpoint(commitLSN: LSN(80), endLSN: LSN(80), commitTime: nil))
        #expect(Self.slices(actions).first?.rows.first?.rows.first?.operation == .upsert)
        #expect(actions.contains(.tookChunk(chunk)))
    }

    @Test("with chunk sessions, everything before the high watermark commits before the chunk is written")
    func backfillChunkOnItsSessions() throws {
        var machine = Self.machine(chunkSessions: true)
        let chunk = BackfillChunk(
            source: 0, rows: [[Self.text("9"), Self.text("x")]], lsn: LSN(80), progress: Self.progress)
        let actions = Self.run(
            &machine, [.begin(xid: 100), Self.insert("1", at: 20), Self.commit(100, at: 30), .backfill(chunk)])
        let write = try #require(actions.firstIndex(of: .writeChunk(chunk)))
        let commit = try #require(
            Self.first(actions) { if case .commit(let c) = $0 { c.checkpoint.endLSN == LSN(30) } else { false } })
        #expect(commit < write)
        #expect(actions[commit..<write].contains(.settle), "the commit before it is waited for")
    }

    @Test("a TRUNCATE the mapping stops on (the default) fails after the slices before it were written and waited for")
    func truncateStops() throws {
        var machine = Self.machine()
        let actions = Self.run(
            &machine, [.begin(xid: 100), Self.insert("1", at: 20), .truncate(sources: [0], lsn: LSN(21))], quiet: false)
        let stop = BridgeError.truncateStops(
            table: TableName(schema: "public", name: "users"), target: TableName(schema: "public", name: "users_v2"),
            at: WALPosition(LSN(21)))
        #expect(actions.last == .fail(stop))
        let write = try #require(Self.first(actions) { if case .write = $0 { true } else { false } })
        #expect(actions[write...].contains(.settle), "a rejected slice surfaces before the stop")
        #expect(!actions.contains { if case .truncate = $0 { true } else { false } })
    }

    @Test("""
        with on_truncate: truncate, the pending slice is written first, then the target is truncated \
        in the same transaction
        """)
    func truncateTruncates() throws {
        let plan = TransactionReaderTests.usersPlan(extra: "\n      on_truncate: truncate")
        var machine = ApplyMachine(
            plan: plan, limits: ApplyLimits(), markWrites: false, chunkSessions: false, counting: false, durable: .zero,
            orderedThrough: nil)
        let actions = Self.run(
            &machine, [.begin(xid: 100), Self.insert("1", at: 20), .truncate(sources: [0], lsn: LSN(21))], quiet: false)
        let write = try #require(Self.first(actions) { if case .write = $0 { true } else { false } })
        let truncate = try #require(actions.firstIndex(of: .truncate(["TRUNCATE \"public\".\"users_v2\""])))
        #expect(write < truncate && actions[write..<truncate].contains(.settle))
        #expect(actions.filter { $0 == .begin }.count == 1)
    }

    @Test("abandoning rolls back the open transaction and forgets what it held")
    func abandon() throws {
        var machine = Self.machine(sliceRows: 1)
        _ = Self.run(&machine, [.begin(xid: 100), Self.insert("1", at: 20)], quiet: false)
        #expect(machine.open)
        #expect(machine.abandon() == [.abandon(rollback: true)])
        #expect(!machine.open)
        #expect(machine.abandon() == [.abandon(rollback: false)])
    }
}
