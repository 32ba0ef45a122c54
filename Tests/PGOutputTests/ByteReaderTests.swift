import PGOutput
import Testing

/// The public byte cursor.
@Suite struct ByteReaderTests {
    @Test func readsBigEndianFieldsInOrder() throws {
        let bytes = Wire("").u8(0xAB).u16(0x0102).i32(-2).u32(0xDEAD_BEEF).i64(-3).u64(0x0102_0304_0506_0708)
            .u64(0x16_B374_D848).i64(42).string("héllo").raw([9, 8, 7]).bytes
        try bytes.withUnsafeBytes { buffer in
            var reader = ByteReader(buffer, message: "Test")
            #expect(try reader.readUInt8() == 0xAB)
            #expect(try reader.readUInt16() == 0x0102)
            #expect(try reader.readInt32() == -2)
            #expect(try reader.readUInt32() == 0xDEAD_BEEF)
            #expect(try reader.readInt64() == -3)
            #expect(try reader.readUInt64() == 0x0102_0304_0506_0708)
            #expect(try reader.readLSN() == LSN("16/B374D848"))
            #expect(try reader.readTimestamp() == PGTimestamp(rawValue: 42))
            #expect(try reader.readCString() == "héllo")
            #expect(reader.remaining == 3)
            #expect(reader.offset == bytes.count - 3)
            #expect(try reader.readBytes(2) == [9, 8])
            #expect(throws: DecodeError(message: "Test", offset: bytes.count - 1, reason: "needs 4 bytes, 1 left")) {
                try reader.readUInt32()
            }
            #expect(
                throws: DecodeError(
                    message: "Test", offset: bytes.count - 1, reason: "1 trailing byte after the message")
            ) {
                try reader.expectEnd()
            }
            #expect(throws: DecodeError(message: "Test", offset: bytes.count - 1, reason: "negative length -1")) {
                try reader.readBytes(-1)
            }
            #expect(try reader.readBytes(1) == [7])
            try reader.expectEnd()
            #expect(try reader.readBytes(0) == [])
        }
    }

    @Test func slicesShareTheStorageTheyWereReadFrom() throws {
        let frame: [UInt8] = [0xFF, 1, 2, 3, 4, 5]
        let message = frame[1...]
        try message.withUnsafeBytes { buffer in
            var shared = ByteReader(buffer, message: "Test", storage: message)
            _ = try shared.readUInt8()
            let value = try shared.readSlice(3)
            #expect(value == [2, 3, 4])
            #expect(value.startIndex == 2)
            #expect(throws: DecodeError(message: "Test", offset: 4, reason: "needs 2 bytes, 1 left")) {
                try shared.readSlice(2)
            }
            var copying = ByteReader(buffer, message: "Test")
            _ = try copying.readUInt8()
            let copy = try copying.readSlice(3)
            #expect(copy == [2, 3, 4])
            #expect(copy.startIndex == 0)
        }
    }

    @Test func emptyInputThrowsWithoutCrashing() {
        var reader = ByteReader(UnsafeRawBufferPointer(start: nil, count: 0), message: "Empty")
        #expect(reader.remaining == 0)
        #expect(throws: DecodeError(message: "Empty", offset: 0, reason: "needs 1 byte, 0 left")) {
            try reader.readUInt8()
        }
        #expect(throws: DecodeError(message: "Empty", offset: 0, reason: "string has no terminating NUL")) {
            try reader.readCString()
        }
    }
}
