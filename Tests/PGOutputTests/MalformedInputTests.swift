import PGOutput
import Testing

/// Hand-built messages: exact errors for corrupt input, xid prefixes and Stream Prepare.
@Suite struct MalformedInputTests {
    func decode(_ wire: Wire, inStream: Bool = false) throws(DecodeError) -> PGOutputMessage {
        var decoder = PGOutputDecoder()
        if inStream {
            _ = try decoder.decode(Wire("S").u32(9).u8(1).bytes)
        }
        return try decoder.decode(wire.bytes)
    }

    func expectError(
        _ wire: Wire, inStream: Bool = false, _ expected: DecodeError, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(throws: expected, sourceLocation: sourceLocation) { try decode(wire, inStream: inStream) }
    }

    @Test func errorDescriptionNamesMessageReasonAndOffset() {
        let error = DecodeError(message: "Insert", offset: 17, reason: "needs 4 bytes, 2 left")
        #expect(error.description == "pgoutput Insert: needs 4 bytes, 2 left at byte 17")
    }

    @Test func truncatedFieldsNameTheMessageAndOffset() {
        expectError(Wire("I").u32(1).u8(UInt8(ascii: "N")).u16(1).u8(UInt8(ascii: "t")).raw([0, 0]),
                    DecodeError(message: "Insert", offset: 9, reason: "needs 4 bytes, 2 left"))
        expectError(Wire("B").u64(1), DecodeError(message: "Begin", offset: 9, reason: "needs 8 bytes, 0 left"))
        expectError(Wire("I").u32(1).u8(UInt8(ascii: "N")).u16(1).text("abc").raw([]).u8(0).raw([]),
                    DecodeError(message: "Insert", offset: 16, reason: "1 trailing byte after the message"))
        expectError(Wire("R").u32(1).raw(Array("public".utf8)),
                    DecodeError(message: "Relation", offset: 5, reason: "string has no terminating NUL"))
        expectError(Wire("O").u64(1).string("a").raw([1, 2]),
                    DecodeError(message: "Origin", offset: 11, reason: "2 trailing bytes after the message"))
        expectError(Wire(""), DecodeError(message: "message", offset: 0, reason: "needs 1 byte, 0 left"))
    }

    @Test func unknownTypesAndKindsAreRejected() {
        expectError(Wire("Q"), DecodeError(message: "message", offset: 0, reason: "unknown message type 0x51"))
        expectError(Wire("I").u32(1).u8(UInt8(ascii: "N")).u16(2).u8(UInt8(ascii: "n")).u8(0x7A),
                    DecodeError(message: "Insert", offset: 9, reason: "unknown tuple kind 0x7A"))
        expectError(Wire("I").u32(1).u8(UInt8(ascii: "K")).u16(0),
                    DecodeError(message: "Insert", offset: 5, reason: "expected new tuple 'N', got 0x4B"))
        expectError(Wire("U").u32(1).u8(UInt8(ascii: "X")),
                    DecodeError(message: "Update", offset: 5, reason: "expected tuple 'K', 'O' or 'N', got 0x58"))
        expectError(Wire("U").u32(1).u8(UInt8(ascii: "K")).u16(0).u8(UInt8(ascii: "O")).u16(0),
                    DecodeError(message: "Update", offset: 8, reason: "expected tuple 'K', 'O' or 'N', got 0x4F"))
        expectError(Wire("D").u32(1).u8(UInt8(ascii: "N")).u16(0),
                    DecodeError(message: "Delete", offset: 5, reason: "expected old tuple 'K' or 'O', got 0x4E"))
        expectError(Wire("R").u32(1).string("s").string("t").u8(UInt8(ascii: "x")).u16(0),
                    DecodeError(message: "Relation", offset: 9, reason: "unknown replica identity 0x78"))
    }

    @Test func hugeCountsAndNegativeLengthsThrowBeforeAllocating() {
        expectError(Wire("I").u32(1).u8(UInt8(ascii: "N")).u16(0xFFFF).u8(UInt8(ascii: "n")),
                    DecodeError(message: "Insert", offset: 6, reason: "65535 columns but only 1 bytes left"))
        expectError(Wire("I").u32(1).u8(UInt8(ascii: "N")).u16(1).u8(UInt8(ascii: "t")).i32(-5),
                    DecodeError(message: "Insert", offset: 9, reason: "negative length -5"))
        expectError(Wire("I").u32(1).u8(UInt8(ascii: "N")).u16(1).u8(UInt8(ascii: "b")).i32(.max).raw([1, 2]),
                    DecodeError(message: "Insert", offset: 13, reason: "needs 2147483647 bytes, 2 left"))
        // -1 is not NULL in TupleData: NULL has its own kind byte.
        expectError(Wire("I").u32(1).u8(UInt8(ascii: "N")).u16(1).u8(UInt8(ascii: "t")).i32(-1),
                    DecodeError(message: "Insert", offset: 9, reason: "negative length -1"))
        expectError(Wire("R").u32(1).string("s").string("t").u8(UInt8(ascii: "d")).u16(1000).raw([1, 0]),
                    DecodeError(message: "Relation", offset: 10, reason: "1000 columns but only 2 bytes left"))
        expectError(Wire("T").i32(2_000_000_000).u8(0).u32(1),
                    DecodeError(message: "Truncate", offset: 1, reason: "2000000000 relations but only 4 bytes left"))
        expectError(Wire("T").i32(-1).u8(0),
                    DecodeError(message: "Truncate", offset: 1, reason: "negative relation count -1"))
        expectError(Wire("M").u8(1).u64(5).string("p").i32(-2),
                    DecodeError(message: "Message", offset: 12, reason: "negative length -2"))
        expectError(Wire("M").u8(1).u64(5).string("p").i32(0x7FFF_FFFF),
                    DecodeError(message: "Message", offset: 16, reason: "needs 2147483647 bytes, 0 left"))
    }

    @Test func streamBlocksAddXIDPrefixes() throws {
        let insert = Wire("I").u32(77).u32(1234).u8(UInt8(ascii: "N")).u16(1).u8(UInt8(ascii: "u"))
        #expect(
            try decode(insert, inStream: true) == .insert(Insert(xid: 77, relationID: 1234, new: [.unchangedToast])))
        // Outside a block the same bytes mean relation 77 followed by garbage.
        expectError(insert, DecodeError(message: "Insert", offset: 5, reason: "expected new tuple 'N', got 0x00"))
        let truncate = Wire("T").u32(5).i32(1).u8(2).u32(99)
        #expect(try decode(truncate, inStream: true)
            == .truncate(Truncate(xid: 5, cascade: false, restartIdentity: true, relationIDs: [99])))
        let type = Wire("Y").u32(6).u32(16_400).string("s").string("t")
        #expect(try decode(type, inStream: true) == .type(TypeInfo(xid: 6, oid: 16_400, namespace: "s", name: "t")))
        let message = Wire("M").u32(8).u8(0).u64(0x10).string("pre").i32(2).raw([0, 255])
        #expect(try decode(message, inStream: true) == .message(LogicalMessage(
            xid: 8, transactional: false, lsn: LSN(0x10), prefix: "pre", content: [0, 255])))
    }

    @Test func streamStateFollowsStartAndStopButNotFailures() throws {
        var decoder = PGOutputDecoder()
        #expect(!decoder.inStreamBlock)
        #expect(throws: DecodeError.self) { try decoder.decode(Wire("S").u32(1).bytes) }
        #expect(!decoder.inStreamBlock)
        #expect(
            try decoder.decode(Wire("S").u32(1).u8(0).bytes) == .streamStart(StreamStart(xid: 1, firstSegment: false)))
        #expect(decoder.inStreamBlock)
        #expect(throws: DecodeError.self) { try decoder.decode(Wire("E").u8(0).bytes) }
        #expect(decoder.inStreamBlock)
        #expect(try decoder.decode(Wire("E").bytes) == .streamStop)
        #expect(!decoder.inStreamBlock)
    }

    @Test func invalidUTF8InNamesIsReplaced() throws {
        let origin = Wire("O").u64(0).raw([0x61, 0xFF, 0x62, 0])
        #expect(try decode(origin) == .origin(Origin(commitLSN: .zero, name: "a\u{FFFD}b")))
    }

    @Test func slicesAndRawBuffersDecodeTheSame() throws {
        let bytes = [0xEE] + Wire("A").u32(1).u32(2).bytes + [0xEE]
        var decoder = PGOutputDecoder()
        let expected = PGOutputMessage.streamAbort(StreamAbort(xid: 1, subxid: 2))
        #expect(try decoder.decode(bytes[1..<bytes.count - 1]) == expected)
        #expect(try bytes.dropFirst().dropLast().withUnsafeBytes { try decoder.decode($0) } == expected)
        #expect(throws: DecodeError(message: "Stream Abort", offset: 9, reason: "1 trailing byte after the message")) {
            try decoder.decode(bytes[1...])
        }
    }

    @Test func handBuiltTwoPhaseMessages() throws {
        let rollback = Wire("r").u8(0).u64(0x100).u64(0x200).i64(10).i64(20).u32(7).string("g")
        #expect(try decode(rollback) == .rollbackPrepared(RollbackPrepared(
            flags: 0, prepareEndLSN: LSN(0x100), rollbackEndLSN: LSN(0x200), prepareTime: PGTimestamp(rawValue: 10),
            rollbackTime: PGTimestamp(rawValue: 20), xid: 7, gid: "g")))
        let streamPrepare = Wire("p").u8(0).u64(1).u64(2).i64(3).u32(4).string("gid")
        #expect(try decode(streamPrepare) == .streamPrepare(Prepare(
            flags: 0, prepareLSN: LSN(1), endLSN: LSN(2), prepareTime: PGTimestamp(rawValue: 3), xid: 4, gid: "gid")))
    }
}
