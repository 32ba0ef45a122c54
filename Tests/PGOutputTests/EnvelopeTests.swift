import PGOutput
import Testing

/// The replication CopyData envelope: XLogData, keepalive and standby status update.
@Suite struct EnvelopeTests {
    let begin = Wire("B").u64(0x0000_0001_0000_0020).i64(777).u32(42)

    @Test func xLogDataSplitsHeaderAndData() throws {
        let frame = Wire("w").u64(0x16_B374_D848).u64(0x16_B374_D900).i64(123_456).raw(begin.bytes).bytes
        guard case .xLogData(let data) = try ReplicationMessage.decode(frame) else {
            Issue.record("not XLogData")
            return
        }
        #expect(data.walStart == LSN("16/B374D848"))
        #expect(data.walEnd == LSN("16/B374D900"))
        #expect(data.sendTime == PGTimestamp(rawValue: 123_456))
        #expect(Array(data.data) == begin.bytes)
        var decoder = PGOutputDecoder()
        #expect(
            try decoder.decode(data.data)
                == .begin(Begin(finalLSN: LSN("1/20")!, commitTime: PGTimestamp(rawValue: 777), xid: 42)))
    }

    @Test func xLogDataMayBeEmpty() throws {
        let frame = Wire("w").u64(1).u64(2).i64(3).bytes
        guard case .xLogData(let data) = try ReplicationMessage.decode(frame) else {
            Issue.record("not XLogData")
            return
        }
        #expect(data.data.isEmpty)
    }

    @Test func keepaliveDecodes() throws {
        let frame = Wire("k").u64(0x2_0000_0010).i64(-5).u8(1).bytes
        #expect(try ReplicationMessage.decode(frame)
                == .keepalive(
                    PrimaryKeepalive(walEnd: LSN("2/10")!, sendTime: PGTimestamp(rawValue: -5), replyRequested: true)))
        let quiet = Wire("k").u64(7).i64(8).u8(0).bytes
        #expect(try ReplicationMessage.decode(quiet)
            == .keepalive(PrimaryKeepalive(walEnd: LSN(7), sendTime: PGTimestamp(rawValue: 8), replyRequested: false)))
    }

    @Test func malformedEnvelopesThrow() {
        #expect(throws: DecodeError(message: "replication message", offset: 0, reason: "unknown message type 0x78")) {
            try ReplicationMessage.decode(Wire("x").u64(1).bytes)
        }
        #expect(throws: DecodeError(message: "replication message", offset: 0, reason: "needs 1 byte, 0 left")) {
            try ReplicationMessage.decode([])
        }
        #expect(throws: DecodeError(message: "XLogData", offset: 17, reason: "needs 8 bytes, 3 left")) {
            try ReplicationMessage.decode(Wire("w").u64(1).u64(2).raw([0, 0, 0]).bytes)
        }
        #expect(throws: DecodeError(message: "Keepalive", offset: 18, reason: "1 trailing byte after the message")) {
            try ReplicationMessage.decode(Wire("k").u64(1).i64(2).u8(0).u8(9).bytes)
        }
    }

    @Test func standbyStatusUpdateEncodesTo34Bytes() {
        let update = StandbyStatusUpdate(
            written: LSN("1/2")!, flushed: LSN("3/4")!, applied: LSN("5/6")!,
            sendTime: PGTimestamp(rawValue: 0x0102_0304_0506_0708), replyRequested: true)
        let expected: [UInt8] = [0x72]
            + [0, 0, 0, 1, 0, 0, 0, 2] + [0, 0, 0, 3, 0, 0, 0, 4] + [0, 0, 0, 5, 0, 0, 0, 6]
            + [1, 2, 3, 4, 5, 6, 7, 8] + [1]
        #expect(update.encoded() == expected)
        #expect(update.encoded().count == 34)
        let negative = StandbyStatusUpdate(
            written: .zero, flushed: .zero, applied: .zero, sendTime: PGTimestamp(rawValue: -1))
        #expect(negative.encoded() == [0x72] + Array(repeating: 0, count: 24) + Array(repeating: 0xFF, count: 8) + [0])
    }
}
