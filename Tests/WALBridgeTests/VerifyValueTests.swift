import Testing
@testable import WALBridge

@Suite("verify report values")
struct VerifyValueTests {
    @Test("MD5 matches RFC 1321 and PostgreSQL's md5() across block boundaries and multi-byte characters")
    func md5() {
        #expect(MD5.hex([]) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(MD5.hex(Array("abc".utf8)) == "900150983cd24fb0d6963f7d28e17f72")
        #expect(
            MD5.hex(Array("The quick brown fox jumps over the lazy dog".utf8)) == "9e107d9d372bb6826bd81d3542a419d6")
        #expect(MD5.hex(Array(String(repeating: "a", count: 55).utf8)) == "ef1772b6dff9a122358552954ad0df65")
        #expect(MD5.hex(Array(String(repeating: "a", count: 56).utf8)) == "3b0c8ac703f828b04c6c197006d17218")
        #expect(MD5.hex(Array(String(repeating: "a", count: 64).utf8)) == "014842d480b571495a4a0363793f7367")
        #expect(MD5.hex(Array(String(repeating: "x", count: 200_000).utf8)) == "4b98146705d4b0b98b758a78ff6fb73f")
        #expect(MD5.hex(Array(String(repeating: "ü", count: 100).utf8)) == "975a1c2201d2139652b877053857973c")
    }

    @Test("short values and NULL print whole; a value past 80 characters prints 60, its length and a hash")
    func cutting() {
        #expect(VerifyValue.shown(nil) == "NULL")
        #expect(VerifyValue.shown("") == "''")
        #expect(VerifyValue.shown("user 5") == "'user 5'")
        let eighty = String(repeating: "e", count: 80)
        #expect(VerifyValue.shown(eighty) == "'\(eighty)'")
        let long = String(repeating: "x", count: 200_000)
        let shown = VerifyValue.shown(long)
        #expect(shown == "'\(String(repeating: "x", count: 60))…' (200000 characters, md5 4b981467)")
        #expect(
            VerifyValue.shown(String(repeating: "e", count: 81)).hasSuffix(
                "(81 characters, md5 \(VerifyValue.shortHash(String(repeating: "e", count: 81))))"))
    }

    @Test("""
        a cut value counts code points as length() does, keeps multi-byte characters whole and \
        escapes control characters
        """)
    func unicodeAndControls() {
        let umlauts = String(repeating: "ü", count: 100)
        #expect(VerifyValue.shown(umlauts) == "'\(String(repeating: "ü", count: 60))…' (100 "
            + "characters, md5 975a1c22)")
        let lines = String(repeating: "a\n", count: 50)
        let shown = VerifyValue.shown(lines)
        #expect(!shown.contains("\n"), "one report line: \(shown)")
        #expect(shown.hasPrefix("'a\\na\\n"))
        #expect(shown.hasSuffix("…' (100 characters, md5 \(VerifyValue.shortHash(lines)))"))
        #expect(VerifyValue.shown(String(repeating: "\u{1}", count: 81)).hasPrefix("'\\x1\\x1"))
    }

    @Test("a changed long column's line is short, names both lengths and hashes, and where the values part")
    func mismatchLine() {
        let base = String(repeating: "b", count: 200_000)
        let target = String(base.dropLast(10)) + "0123456789"
        let mismatch = Mismatch(
            table: TableName(schema: "public", name: "users_v2"), key: "(id)=(7)", kind: .changed,
            columns: [
                Mismatch.ColumnDifference(column: "bio", source: base, target: target),
                Mismatch.ColumnDifference(column: "full_name", source: "user 7", target: nil),
            ])
        let line = mismatch.description
        #expect(line.count < 400, "\(line)")
        #expect(
            line.contains(
                "bio: source '\(String(repeating: "b", count: 60))…' (200000 characters, "
                    + "md5 \(VerifyValue.shortHash(base)))"))
        #expect(
            line.contains(
                "target '\(String(repeating: "b", count: 60))…' (200000 characters, "
                    + "md5 \(VerifyValue.shortHash(target))), first different at character 199991"))
        #expect(line.hasSuffix("; full_name: source 'user 7', target NULL"), "\(line)")
        #expect(VerifyValue.shortHash(base) != VerifyValue.shortHash(target))
        #expect(VerifyValue.firstDifference("short", "shirt") == "", "short values need no pointer")
        #expect(
            VerifyValue.firstDifference(base, String(repeating: "b", count: 100))
                == ", first different at character 101")
    }
}
