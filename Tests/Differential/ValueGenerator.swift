import PGOutput
import TestSupport

/// SQL literals for every generated type: injective key values from a key number, and random (often tricky) values.
enum ValueGenerator {
    /// Strings that tend to break quoting, COPY escaping, padding and encodings.
    static let trickyText: [String] = [
        "", " ", "it's", "O'Brien", "back\\slash", "C:\\dir\\file", "tab\there", "line1\nline2", "cr\r\nlf",
        "unicode ☃ é ü 日本語", "emoji 😀👍", "\"double\"", "NULL", "\\N", "a,b;c|d", "{curly}", "[1,2]",
        "  padded  ", "%_like_%", "$1 $$ dollar", "-- not a comment", "/* nor this */", "trailing space ", "x",
    ]
    static let tinyText: [String] = ["", "a", "ab", "a b", "abcdef", "é", "x'y", " ", "ab\t", "\\", "日本", "Z"]
    static let keyPrefixes: [String] = ["k", "Käse", "it's", "a b", "x\\y", "tab\t", "Ω", "K"]
    static let words: [String] = [
        "alpha", "beta", "Gamma", "delta", "épsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu"
    ]

    // MARK: - Key values

    /// The literal of a key's main column for key number `n` (≥ 0); distinct numbers give distinct values, growing
    /// with `n` for the rangeable types.
    static func mainKey(_ type: SQLType, _ n: Int) -> String {
        switch type {
        case .int, .domainInt: return String(n - 100)
        case .bigint: return String(3_000_000_000 + n * 1_000_003)
        case .numeric: return cents(n * 125 - 5000)
        case .text, .domainText: return SQLText.literal("\(keyPrefixes[n % keyPrefixes.count])-\(n)")
        case .varchar: return SQLText.literal("\(["v", "é", "q'"][n % 3])\(n)")
        case .char6: return SQLText.literal(String(n, radix: 36))
        case .uuid: return SQLText.literal(uuid(SplitMix64.mix(UInt64(n) ^ 0xD1FF), UInt64(n)))
        case .inet: return SQLText.literal(inet(n))
        case .date: return SQLText.literal(date(days: 10957 + n))
        case .timestamptz: return SQLText.literal(timestamp(micros: 1_577_836_800_000_000 + Int64(n) * 1_500_123))
        default: return String(n)
        }
    }

    /// A literal for a key column that is not the main one (its values repeat; the main column keeps the key unique).
    static func secondaryKey(_ type: SQLType, _ n: Int, _ names: TypeNames) -> String {
        switch type {
        case .bool: return n % 2 == 0 ? "false" : "true"
        case .enumType: return SQLText.literal(names.labels[n % names.labels.count])
        default: return mainKey(type, n % 5)
        }
    }

    /// The key literals of row number `g` of `table` (session `g % 3`, counter `g / 3`), in `table.key` order.
    static func keyLiterals(_ table: SourceTable, _ g: Int, _ names: TypeNames) -> [String] {
        let s = g % 3, c = g / 3
        let m = table.boolComponent != nil ? c >> 1 : c
        let n = m * 3 + s
        return table.key.map { index in
            let column = table.columns[index]
            if index == table.main { return mainKey(column.type, n) }
            if index == table.boolComponent { return c & 1 == 1 ? "true" : "false" }
            if index == table.enumComponent { return SQLText.literal(names.labels[(m + s) % names.labels.count]) }
            return secondaryKey(column.type, n, names)
        }
    }

    /// SQL expressions for the key columns of counter `c` (an SQL expression, e.g. `(1000 + i)`) in session `s`,
    /// matching `keyLiterals`, for rows made by generate_series; nil when the main column's type has no such formula
    /// here.
    static func keyExpressions(
        _ table: SourceTable, counter c: String, session s: Int, _ names: TypeNames
    ) -> [String]? {
        let m = table.boolComponent != nil ? "(\(c) / 2)" : c
        let n = "(\(m) * 3 + \(s))"
        func main(_ type: SQLType) -> String? {
            switch type {
            case .int: return "(\(n) - 100)"
            case .bigint: return "(3000000000 + \(n)::bigint * 1000003)"
            case .numeric: return "((\(n) * 125 - 5000)::numeric / 100)::numeric(12,2)"
            case .date: return "('1970-01-01'::date + (10957 + \(n))::integer)"
            case .text:
                return
                    "((ARRAY[\(keyPrefixes.map(SQLText.literal).joined(separator: ", "))])[\(n) % \(keyPrefixes.count) "
                    + "+ 1] || '-' || \(n))"
            case .varchar:
                return
                    "((ARRAY[\(["v", "é", "q'"].map(SQLText.literal).joined(separator: ", "))])[\(n) % 3 + 1] || \(n))"
            default: return nil
            }
        }
        guard let mainSQL = main(table.columns[table.main].type) else { return nil }
        return table.key.map { index in
            let type = table.columns[index].type
            if index == table.main { return mainSQL }
            if index == table.boolComponent { return "(\(c) % 2 = 1)" }
            if index == table.enumComponent {
                return
                    "(ARRAY[\(names.labels.map(SQLText.literal).joined(separator: ", "))]::\(names.enumName)[])[(\(m) "
                    + "+ \(s)) % \(names.labels.count) + 1]"
            }
            return "(CASE \(n) % 5 "
                + (0..<5).map { "WHEN \($0) THEN \(secondaryKey(type, $0, names))" }.joined(separator: " ")
                + " END)::\(type.sql(names))"
        }
    }

    /// The code of code number `g` as an SQL expression over an SQL number expression.
    static func codeExpression(_ g: String) -> String {
        "((ARRAY[\(["c", "Ç", "c d", "c'q"].map(SQLText.literal).joined(separator: ", "))])[\(g) "
            + "% 4 + 1] || '-' || \(g))"
    }

    /// The number the main column gets for the first row of counter `c`, for partition bounds.
    static func mainNumber(_ table: SourceTable, counter c: Int) -> Int {
        (table.boolComponent != nil ? c >> 1 : c) * 3
    }

    /// The unique code of code number `g`.
    static func code(_ g: Int) -> String {
        SQLText.literal("\(["c", "Ç", "c d", "c'q"][g % 4])-\(g)")
    }

    // MARK: - Random values

    /// A random literal of `type`; NULL with probability `nulls`.
    /// `invalid` is the chance of a value a domain rejects (the statement then fails and its transaction rolls back).
    static func random(
        _ type: SQLType, _ rng: inout SplitMix64, _ names: TypeNames, nulls: Double = 0.12, invalid: Double = 0.01
    ) -> String {
        if rng.chance(nulls) { return "NULL" }
        switch type {
        case .int:
            return String(
                rng.pick([0, 1, -1, 42, 2_147_483_647, -2_147_483_648, rng.int(-1000...1000), rng.int(0...100)]))
        case .domainInt: return rng.chance(invalid) ? "-1" : String(rng.pick([0, 1, 7, 11, 999, rng.int(0...100)]))
        case .bigint:
            return String(rng.pick([0, -1, Int64.max, Int64.min, Int64(rng.int(-1_000_000...1_000_000)) * 1_000_003]))
        case .numeric:
            return rng.pick([
                "0.00", "-0.01", "9999999999.99", "-9999999999.99", cents(rng.int(-100_000...100_000)),
                cents(rng.int(0...999))
            ])
        case .text: return SQLText.literal(text(&rng, max: 200))
        case .domainText: return SQLText.literal(rng.chance(invalid) ? "forbidden" : text(&rng, max: 40))
        case .varchar:
            return SQLText.literal(String(String.UnicodeScalarView(text(&rng, max: 20).unicodeScalars.prefix(20))))
        case .char6: return SQLText.literal(rng.pick(tinyText))
        case .bool: return rng.chance(0.5) ? "true" : "false"
        case .uuid: return SQLText.literal(uuid(rng.next(), rng.next()))
        case .inet:
            return SQLText.literal(rng.pick([
                "10.0.0.1", "10.0.0.0/8", "192.168.1.5/24", "::1", "2001:db8::/32", "0.0.0.0/0",
                "172.16.\(rng.int(0...255)).\(rng.int(0...255))", "fe80::\(String(rng.int(1...65535), radix: 16))/64",
            ]))
        case .timestamptz:
            return SQLText.literal(rng.pick([
                    "2024-02-29 12:34:56.789012+00", "1999-12-31 23:59:59+05:30", "1970-01-01 00:00:00+00",
                    "2038-01-19 03:14:08+00",
                "infinity", "-infinity", "2000-06-15 08:00:00-07",
                timestamp(micros: Int64(rng.int(0...2_000_000_000)) * 1_000_000 + Int64(rng.int(0...999_999))),
            ]))
        case .date:
            return SQLText.literal(
                rng.pick([
                    "2024-02-29", "1970-01-01", "0001-01-01", "9999-12-31", "infinity", "2000-02-29",
                    date(days: rng.int(0...40000))
                ]))
        case .jsonb:
            return SQLText.literal(rng.pick([
                    "{\"a\": 1, \"b\": [true, null, \"x y\"]}", "[]", "{}", "\"str\"",
                    "{\"k\": \"va\\\"l\", \"emoji\": \"😀\"}",
                    "{\"nested\": {\"x\": 1.50, \"y\": -0.0}}", "null", "{\"a\": \"tab\\there\"}",
                    "  {\"spaced\"  :   \"out\"  }  ",
                    "12345678901234567890", "{\"a\": \(rng.int(-5...50))}",
                    "{\"a\": \"\(rng.pick(words))\", \"n\": \(rng.int(0...9))}",
            ]))
        case .bytea:
            let count = rng.pick([0, 1, 4, 16, 64])
            return SQLText.literal(
                "\\x" + (0..<count).map { _ in hex2(UInt8(truncatingIfNeeded: rng.next())) }.joined())
        case .intArray:
            return rng.pick([
                "'{}'", "'{1,2,3}'", "'{NULL,5}'", "'{-2147483648,2147483647}'",
                "ARRAY[\((0..<rng.int(1...5)).map { _ in String(rng.int(-99...99)) }.joined(separator: ","))"
                    + "]::integer[]",
            ])
        case .textArray:
            let elements = (0..<rng.int(0...4)).map { _ in
                rng.chance(0.15) ? "NULL" : SQLText.literal(rng.pick(trickyText + words))
            }
            return "ARRAY[\(elements.joined(separator: ", "))]::text[]"
        case .enumType: return SQLText.literal(rng.pick(names.labels))
        }
    }

    /// A random ordinary text value: tricky strings, words and numbers.
    static func text(_ rng: inout SplitMix64, max: Int) -> String {
        let value: String
        switch rng.int(0...3) {
        case 0, 1: value = rng.pick(trickyText)
        case 2: value = (0..<rng.int(1...4)).map { _ in rng.pick(words) }.joined(separator: " ")
        default: value = "\(rng.pick(words))-\(rng.int(0...99999))"
        }
        return String(String.UnicodeScalarView(value.unicodeScalars.prefix(max)))
    }

    /// A 3–20 kB text value for a TOAST column, unique to this draw.
    static func toast(_ rng: inout SplitMix64) -> String {
        let length = rng.int(3000...20000)
        let alphabet = Array("abcdefghijklmnopqrstuvwxyzÄÖÜß0123456789 -'\\\t".unicodeScalars)
        let unit = (0..<48).map { _ in rng.pick(alphabet) }
        var scalars = Array("toast-\(rng.next() % 1_000_000_000)-".unicodeScalars)
        scalars.reserveCapacity(length)
        var i = 0
        while scalars.count < length {
            scalars.append(unit[i % unit.count])
            i += 1
        }
        var text = String.UnicodeScalarView()
        text.append(contentsOf: scalars)
        return String(text)
    }

    /// A TOAST column's literal: usually a large value, sometimes a short one or NULL.
    /// A replica identity member's value for key number `g` (SQL): 2,300 bytes, stored out of line (STORAGE EXTERNAL
    /// keeps it uncompressed, there and in the index entry, which holds at most 2,704).
    static func toastedIdentity(_ g: String) -> String {
        "rpad((\(g))::text || '-', 2300, 'x')"
    }

    static func toastLiteral(_ rng: inout SplitMix64) -> String {
        switch rng.int(0...9) {
        case 0: return "NULL"
        case 1: return SQLText.literal(text(&rng, max: 50))
        default: return SQLText.literal(toast(&rng))
        }
    }

    // MARK: - Formatting

    static func cents(_ value: Int) -> String {
        let sign = value < 0 ? "-" : ""
        let absolute = abs(value)
        let fraction = absolute % 100
        return "\(sign)\(absolute / 100).\(fraction < 10 ? "0" : "")\(fraction)"
    }

    static func hex2(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 15)]])
    }

    static func uuid(_ high: UInt64, _ low: UInt64) -> String {
        let hex = (0..<8).map { hex2(UInt8(truncatingIfNeeded: high >> (56 - 8 * $0))) }.joined()
            + (0..<8).map { hex2(UInt8(truncatingIfNeeded: low >> (56 - 8 * $0))) }.joined()
        let h = Array(hex)
        return
            "\(String(h[0..<8]))-\(String(h[8..<12]))-\(String(h[12..<16]))-\(String(h[16..<20]))-\(String(h[20..<32]))"
    }

    /// Four inet shapes by `n % 4`: IPv4 host, IPv4 with a /24 mask, IPv6 host, IPv6 /64 network.
    static func inet(_ n: Int) -> String {
        let a = n >> 2
        switch n & 3 {
        case 0: return "10.\((a >> 16) & 255).\((a >> 8) & 255).\(a & 255)"
        case 1: return "10.\((a >> 16) & 255).\((a >> 8) & 255).\(a & 255)/24"
        case 2: return "2001:db8::\(String((a >> 16) & 0xffff, radix: 16)):\(String(a & 0xffff, radix: 16))"
        default: return "2001:db8:\(String((a >> 16) & 0xffff, radix: 16)):\(String(a & 0xffff, radix: 16))::/64"
        }
    }

    /// `YYYY-MM-DD` of a day number counted from 1970-01-01.
    static func date(days: Int) -> String {
        let (y, m, d) = PGTimestamp.civilDate(daysSince1970: Int64(days))
        return "\(pad(Int(y), 4))-\(pad(Int(m), 2))-\(pad(Int(d), 2))"
    }

    /// An ISO timestamp in UTC from microseconds since 1970.
    static func timestamp(micros: Int64) -> String {
        let seconds = Int(micros / 1_000_000), fraction = Int(micros % 1_000_000)
        let days = seconds / 86400, rest = seconds % 86400
        return
            "\(date(days: days)) \(pad(rest / 3600, 2)):\(pad(rest / 60 % 60, 2)):\(pad(rest % 60, 2))"
            + ".\(pad(fraction, 6))+00"
    }

    static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: "0", count: max(0, width - text.count)) + text
    }
}
