import PGOutput
import Testing
@testable import WALBridge

@Suite("Backfill text formats")
struct BackfillTextTests {
    @Test("COPY text rows: NULL, escapes undone, plain values sliced, a short row refused")
    func copyRows() throws {
        let data = Array("1\tplain\t\\N\n2\ttab\\there\\\\x\\nline\t\n".utf8)
        let rows = try CopyText.rows(data, columns: 3)
        #expect(rows.count == 2)
        #expect(rows[0] == [.text(ArraySlice("1".utf8)), .text(ArraySlice("plain".utf8)), .null])
        #expect(rows[1][1] == .text(ArraySlice("tab\there\\x\nline".utf8)))
        #expect(rows[1][2] == .text(ArraySlice("".utf8)))
        #expect(throws: BridgeError.self) { try CopyText.rows(Array("1\t2\n".utf8), columns: 3) }
        #expect(throws: BridgeError.self) { try CopyText.rows(Array("1\t2\t3".utf8), columns: 3) }
        #expect(try CopyText.rows([], columns: 3).isEmpty)
    }

    @Test("text[] literals read back as written, quotes and backslashes included")
    func textArrays() {
        for values in [["1"], ["a b", "c,d", "e\"f", "g\\h", ""], ["tag 7 ü"]] {
            #expect(TextArray.parse(TextArray.literal(values)) == values)
        }
        #expect(TextArray.literal(["x", nil]) == "{\"x\",NULL}")
        #expect(TextArray.parse("{}") == [])
        #expect(TextArray.parse("{42,\"a b\"}") == ["42", "a b"])
    }

    @Test("watermark contents round-trip; anything else is not a watermark")
    func marks() {
        let mark = BackfillMark(edge: .high, seq: 12, source: 1, run: "abc", slot: "my slot")
        #expect(BackfillMark(content: Array(mark.content.utf8)) == mark)
        #expect(BackfillMark(content: Array("X 1 2 r s".utf8)) == nil)
        #expect(BackfillMark(content: []) == nil)
    }
}
