import PGOutput
import Testing

/// Protocol 2 streaming and protocol 3 two-phase messages.
@Suite struct StreamingTests {
    /// The ids inserted by Insert messages whose xid is in `xids`.
    func insertedIDs(_ messages: [FixtureMessage], xids: Set<UInt32>) -> [String] {
        messages.compactMap(\.message.insert).filter { xids.contains($0.xid ?? 0) }.compactMap {
            if case .text(let bytes) = $0.new[0] { String(decoding: bytes, as: UTF8.self) } else { nil }
        }
    }

    @Test func changesCarryXIDsExactlyInsideStreamBlocks() throws {
        var decoder = PGOutputDecoder()
        var inBlock = false
        var blockXID: UInt32 = 0
        for entry in try loadFixture("streaming.txt") {
            #expect(decoder.inStreamBlock == inBlock)
            let message = try decoder.decode(entry.bytes)
            if let start = message.streamStart {
                #expect(!inBlock)
                inBlock = true
                blockXID = start.xid
            } else if message.isStreamStop {
                #expect(inBlock)
                inBlock = false
            } else if let xid = message.changeXID {
                #expect((xid != nil) == inBlock)
                if let xid { #expect(xid >= blockXID) }
            } else {
                #expect(!inBlock, "\(message) inside a stream block")
            }
        }
        #expect(!decoder.inStreamBlock)
    }

    @Test func committedStreamedTransaction() throws {
        let messages = try loadFixture("streaming.txt")
        let starts = messages.compactMap(\.message.streamStart)
        let xid = try #require(starts.first?.xid)
        let mine = starts.filter { $0.xid == xid }
        #expect(mine.count >= 2, "the ballast should split the transaction into several blocks")
        #expect(mine.map(\.firstSegment) == [true] + Array(repeating: false, count: mine.count - 1))
        #expect(insertedIDs(messages, xids: [xid]) == ["1", "2", "3", "4"])
        let note = try #require(messages.compactMap(\.message.logicalMessage).first)
        #expect(note == LogicalMessage(
            xid: xid, transactional: true, lsn: note.lsn, prefix: "walbridge.stream", content: Array("streamed".utf8)))
        let commit = try #require(messages.compactMap(\.message.streamCommit).first { $0.xid == xid })
        #expect(commit.flags == 0)
        #expect(commit.commitLSN < commit.endLSN)
        // A message's LSN is the end of its WAL record, here the start of the commit record.
        #expect(note.lsn <= commit.commitLSN)
        #expect(isPlausible(commit.commitTime))
        #expect(messages.contains { $0.message.streamCommit == commit && $0.lsn == commit.endLSN })
    }

    @Test func abortedStreamedTransaction() throws {
        let messages = try loadFixture("streaming.txt")
        let xids = messages.compactMap(\.message.streamStart).filter(\.firstSegment).map(\.xid)
        try #require(xids.count == 3)
        #expect(insertedIDs(messages, xids: [xids[1]]) == ["10"])
        let aborts = messages.compactMap(\.message.streamAbort)
        #expect(aborts.contains(StreamAbort(xid: xids[1], subxid: xids[1])))
        #expect(!messages.contains { $0.message.streamCommit?.xid == xids[1] })
    }

    @Test func abortedStreamedSubtransaction() throws {
        let messages = try loadFixture("streaming.txt")
        let top = try #require(messages.compactMap(\.message.streamStart).filter(\.firstSegment).last?.xid)
        let abort = try #require(messages.compactMap(\.message.streamAbort).first { $0.xid == top })
        #expect(abort.subxid != top)
        // The rolled-back row was inserted by the subtransaction and carries its xid.
        #expect(insertedIDs(messages, xids: [abort.subxid]) == ["21"])
        // ROLLBACK TO keeps the savepoint, so row 22 is in yet another subtransaction.
        let inserts = messages.compactMap(\.message.insert).filter { ($0.xid ?? 0) >= top }
        #expect(inserts.map(\.new[0]) == [.string("20"), .string("21"), .string("22")])
        #expect(inserts[0].xid == top)
        #expect(inserts[2].xid != top && inserts[2].xid != abort.subxid)
        #expect(messages.last?.message.streamCommit?.xid == top)
    }

    @Test func twoPhaseCommitAndRollback() throws {
        let messages = try loadFixture("two-phase.txt")
        let begins = messages.compactMap(\.message.beginPrepare)
        let prepares = messages.compactMap(\.message.prepare)
        try #require(begins.count == 2 && prepares.count == 2)
        #expect(begins.map(\.gid) == ["gid-commit", "gid-rollback"])
        for (begin, prepare) in zip(begins, prepares) {
            #expect(prepare == Prepare(
                flags: 0, prepareLSN: begin.prepareLSN, endLSN: begin.endLSN, prepareTime: begin.prepareTime,
                xid: begin.xid, gid: begin.gid))
            #expect(begin.prepareLSN < begin.endLSN)
            #expect(isPlausible(begin.prepareTime))
        }
        #expect(messages.compactMap(\.message.insert).map(\.new[1]) == [
            .string("committed later"), .string("rolled back later"),
        ])
        let commit = try #require(messages.compactMap(\.message.commitPrepared).first)
        #expect(commit.gid == "gid-commit")
        #expect(commit.xid == begins[0].xid)
        #expect(commit.flags == 0)
        #expect(commit.commitLSN >= prepares[0].endLSN)
        #expect(commit.commitLSN < commit.endLSN)
        #expect(commit.commitTime >= prepares[0].prepareTime)
        let rollback = try #require(messages.compactMap(\.message.rollbackPrepared).first)
        #expect(rollback.gid == "gid-rollback")
        #expect(rollback.xid == begins[1].xid)
        #expect(rollback.prepareEndLSN == prepares[1].endLSN)
        #expect(rollback.rollbackEndLSN > rollback.prepareEndLSN)
        #expect(rollback.prepareTime == prepares[1].prepareTime)
        #expect(rollback.rollbackTime >= rollback.prepareTime)
    }

    @Test func streamedPreparedTransaction() throws {
        let messages = try loadFixture("stream-prepare.txt")
        let starts = messages.compactMap(\.message.streamStart)
        try #require(starts.count >= 2)
        let xid = starts[0].xid
        #expect(starts.allSatisfy { $0.xid == xid })
        #expect(starts.map(\.firstSegment) == [true] + Array(repeating: false, count: starts.count - 1))
        #expect(messages.compactMap(\.message.insert).map(\.new[0]) == [.string("3"), .string("4")])
        #expect(messages.compactMap(\.message.insert).allSatisfy { $0.xid == xid })
        let prepare = try #require(messages.compactMap(\.message.streamPrepare).first)
        #expect(prepare.xid == xid)
        #expect(prepare.gid == "gid-stream")
        #expect(prepare.flags == 0)
        #expect(prepare.prepareLSN < prepare.endLSN)
        let commit = try #require(messages.last?.message.commitPrepared)
        #expect(commit.xid == xid)
        #expect(commit.gid == "gid-stream")
        #expect(commit.commitLSN >= prepare.endLSN)
    }
}
