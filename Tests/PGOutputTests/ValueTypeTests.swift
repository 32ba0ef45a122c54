import PGOutput
import Testing

/// LSN and PGTimestamp.
@Suite struct ValueTypeTests {
    @Test func lsnParsesAndPrints() throws {
        let lsn = try #require(LSN("16/B374D848"))
        #expect(lsn.rawValue == 0x16_B374_D848)
        #expect(lsn.description == "16/B374D848")
        #expect(LSN("16/b374d848") == lsn)
        #expect(LSN("0/0") == .zero)
        #expect(LSN.zero.description == "0/0")
        #expect(LSN("FFFFFFFF/FFFFFFFF")?.rawValue == UInt64.max)
        #expect(LSN("00000001/0000000A")?.description == "1/A")
        #expect(LSN(rawValue: 0x1_0000_0000).description == "1/0")
        for value: UInt64 in [0, 1, 0xFFFF_FFFF, 0x1_0000_0000, 0x16_B374_D848, .max] {
            #expect(LSN(LSN(value).description) == LSN(value))
        }
    }

    @Test(arguments: ["", "/", "0", "1/", "/1", "1//2", "1/2/3", "123456789/0", "0/123456789", "G/0", "0/x",
                      " 1/2", "1/2 ", "+1/2", "-1/2", "1/-2", "0x1/2", "１/2"])
    func lsnRejectsJunk(_ text: String) {
        #expect(LSN(text) == nil)
    }

    @Test func lsnComparesAndAdds() {
        #expect(LSN(1) < LSN(2))
        #expect(LSN("1/0")! > LSN("0/FFFFFFFF")!)
        #expect([LSN(3), LSN(1), LSN(2)].sorted() == [LSN(1), LSN(2), LSN(3)])
        #expect(LSN("0/FFFFFFFF")! + 1 == LSN("1/0"))
        #expect(LSN(10) + 0 == LSN(10))
        #expect(LSN(UInt64.max - 1) + 5 == LSN(UInt64.max))
    }

    @Test func timestampConvertsBetweenEpochs() {
        #expect(PGTimestamp(rawValue: 0).unixMicroseconds == 946_684_800_000_000)
        #expect(PGTimestamp(unixMicroseconds: 946_684_800_000_000) == PGTimestamp(rawValue: 0))
        #expect(PGTimestamp(unixMicroseconds: 0).rawValue == -946_684_800_000_000)
        // 2024-05-06 07:08:09 UTC.
        let time = PGTimestamp(unixMicroseconds: 1_714_979_289_000_000)
        #expect(time.rawValue == 768_294_489_000_000)
        #expect(PGTimestamp(unixMicroseconds: time.unixMicroseconds) == time)
        #expect(PGTimestamp(rawValue: 1) > PGTimestamp(rawValue: 0))
    }

    @Test func timestampConversionSaturates() {
        #expect(PGTimestamp(rawValue: .max).unixMicroseconds == .max)
        #expect(PGTimestamp(rawValue: .min).unixMicroseconds == .min + 946_684_800_000_000)
        #expect(PGTimestamp(unixMicroseconds: .min).rawValue == .min)
    }
}
