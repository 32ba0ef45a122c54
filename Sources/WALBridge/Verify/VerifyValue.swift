/// How `walbridge verify` prints one column value in its report: short values whole, long ones cut to a prefix
/// with their length and a short hash, so a 200 kB value takes one readable line.
///
/// The length counts characters as PostgreSQL's `length()` does (code points) and the hash is the start of the
/// MD5 of the value's UTF-8 bytes, so an operator can find the value with `length(col)` and `left(md5(col::text), 8)`.
public enum VerifyValue {
    /// Values up to this many characters are printed whole.
    public static let limit = 80
    /// Characters of a longer value that are printed.
    public static let prefixLength = 60
    /// Hex digits of the MD5 printed.
    public static let hashDigits = 8

    /// `NULL`, `'value'`, or for a value longer than `limit`:
    /// `'first 60 characters…' (200000 characters, md5 1a2b3c4d)`.
    public static func shown(_ value: String?, limit: Int = limit, prefix: Int = prefixLength) -> String {
        guard let value else { return "NULL" }
        let length = value.unicodeScalars.count
        guard length > limit else { return "'\(value)'" }
        var head = ""
        for scalar in value.unicodeScalars.prefix(prefix) { head += escaped(scalar) }
        return "'\(head)…' (\(length) characters, md5 \(shortHash(value)))"
    }

    /// Where two values first differ, when either is cut (their prefixes may then read the same):
    /// `, first different at character 150001` (counting from 1, as `substr()` does), or "".
    public static func firstDifference(_ source: String?, _ target: String?, limit: Int = limit) -> String {
        guard let source, let target else { return "" }
        let (left, right) = (Array(source.unicodeScalars), Array(target.unicodeScalars))
        guard left.count > limit || right.count > limit else { return "" }
        var at = 0
        while at < left.count, at < right.count, left[at] == right[at] { at += 1 }
        return ", first different at character \(at + 1)"
    }

    /// The first `hashDigits` hex digits of the MD5 of the value's UTF-8 bytes, as `left(md5(value), 8)` gives them.
    public static func shortHash(_ value: String) -> String {
        String(MD5.hex(Array(value.utf8)).prefix(hashDigits))
    }

    /// A control character of a cut value as an escape, so the report line stays one line.
    private static func escaped(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        default:
            if scalar.value < 0x20 || scalar.value == 0x7F {
                return "\\x" + String(scalar.value, radix: 16, uppercase: false)
            }
            return String(scalar)
        }
    }
}
