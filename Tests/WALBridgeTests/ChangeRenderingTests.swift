import PGOutput
import Testing
@testable import WALBridge

@Suite("ChangeEvent rendering")
struct ChangeRenderingTests {
    func event(_ operation: ChangeEvent.Operation, new: [TupleValue]? = nil, old: OldTuple? = nil) -> ChangeEvent {
        ChangeEvent(
            lsn: LSN(0x16_B374_D848), xid: 744, commitTime: PGTimestamp(rawValue: 0), operation: operation,
            relation: users, new: new, old: old)
    }

    @Test("JSON keeps column order, types integers and booleans, marks unchanged TOAST apart from NULL")
    func json() {
        let change = event(.update, new: [text("42"), text("Ann \"A\"\n\u{1}✓"), text("f"), .unchangedToast],
                           old: OldTuple(kind: .key, values: [text("41"), .null, .null, .null]))
        #expect(
            change.json
                == #"{"lsn":"16/B374D848","xid":744,"commit_time":"2000-01-01T00:00:00.000000Z","op":"update","#
                + #""table":"public.users","new":{"id":42,"name":"Ann \"A\"\n\u0001✓","active":false,"#
                + #""big":{"unchanged_toast":true}},"old":{"id":41}}"#
        )
    }

    @Test("NULL, binary values and a full old row")
    func nullBinaryFullOld() {
        let change = event(
            .delete, old: OldTuple(kind: .full, values: [text("1"), .null, .binary([0xDE, 0xAD]), text("x")]))
        #expect(
            change.json.hasSuffix(
                #""op":"delete","table":"public.users","old":{"id":1,"name":null,"#
                    + #""active":{"binary":"dead"},"big":"x"}}"#
            ))
    }

    @Test("an integer column whose text is not a plain integer stays a string")
    func oddIntegerText() {
        let change = event(.insert, new: [text("1e5"), .null, text("maybe"), .null])
        #expect(change.json.contains(#""id":"1e5""#))
        #expect(change.json.contains(#""active":"maybe""#))
    }

    @Test("text form is compact, quotes text and cuts long values")
    func textForm() {
        let long = String(repeating: "z", count: 500)
        let change = event(.update, new: [text("7"), text("it's"), text("t"), text(long)],
                           old: OldTuple(kind: .key, values: [text("6"), .null, .null, .null]))
        let line = change.text
        #expect(line.hasPrefix("16/B374D848 xid=744 UPDATE public.users id=7 name='it''s' active=t big='zzz"))
        #expect(line.contains("…(502 bytes)"))
        #expect(line.hasSuffix("(old: id=6)"))
        #expect(
            event(.insert, new: [text("1"), .null, .null, .unchangedToast]).text.hasSuffix(
                "name=NULL active=NULL big=<unchanged toast>"))
    }

    @Test("ISO 8601 commit times, including leap days, pre-2000 and pre-1970")
    func timestamps() {
        #expect(PGTimestamp(rawValue: 0).iso8601 == "2000-01-01T00:00:00.000000Z")
        #expect(PGTimestamp(unixMicroseconds: 1_709_164_800_123_456).iso8601 == "2024-02-29T00:00:00.123456Z")
        #expect(PGTimestamp(unixMicroseconds: -1).iso8601 == "1969-12-31T23:59:59.999999Z")
        #expect(PGTimestamp(rawValue: -1).iso8601 == "1999-12-31T23:59:59.999999Z")
        // Corrupt extremes still print something rather than trap.
        #expect(!PGTimestamp(rawValue: .max).iso8601.isEmpty)
        #expect(!PGTimestamp(rawValue: .min).iso8601.isEmpty)
    }
}
