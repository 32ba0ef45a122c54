import PGClient

/// Finds the column names an SQL expression may refer to, so the bridge knows which source
/// columns each target column depends on. It over-approximates (a function or type name that
/// equals a column name counts), which only makes the bridge more careful.
enum ExpressionReferences {
    /// The names among `columns` that appear as identifiers in `expression`, outside literals and comments.
    static func columns(in expression: String, among columns: Set<String>) -> Set<String> {
        Set(identifiers(in: expression).filter(columns.contains))
    }

    /// Every identifier in `expression`: unquoted ones folded to lower case, quoted ones as written.
    static func identifiers(in expression: String) -> [String] {
        identifierTokens(in: Array(expression.unicodeScalars)).map(\.name)
    }

    /// `expression` with each of the `renamed` columns (among the columns `names`) replaced by its new name, quoted;
    /// nil unless each column appears only as a plain column reference and named one of `renamed`, and no name in
    /// `taken` appears other than through the renaming.
    static func renaming(
        _ expression: String, _ renamed: [String: String], among names: Set<String>, taken: Set<String>
    ) -> String? {
        let chars = Array(expression.unicodeScalars)
        var result = String.UnicodeScalarView()
        var copied = 0
        for token in identifierTokens(in: chars) {
            guard names.contains(token.name) else {
                if taken.contains(token.name) { return nil }
                continue
            }
            guard let name = renamed[token.name] else { return nil }
            // A function, type, qualifier or qualified name that happens to equal the column's.
            let before = chars[..<token.range.lowerBound].last { !$0.properties.isWhitespace }
            let after = chars[token.range.upperBound...].first { !$0.properties.isWhitespace }
            if before == "." || before == ":" || after == "(" || after == "." || after == "'" { return nil }
            result.append(contentsOf: chars[copied..<token.range.lowerBound])
            result.append(contentsOf: SQLQuoting.identifier(name).unicodeScalars)
            copied = token.range.upperBound
        }
        result.append(contentsOf: chars[copied...])
        return String(result)
    }

    /// An identifier's name (unquoted ones folded to lower case) and where it stands in the expression.
    private struct Token {
        var name: String
        var range: Range<Int>
    }

    private static func identifierTokens(in chars: [Unicode.Scalar]) -> [Token] {
        var names: [Token] = []
        var i = 0
        func isIdentifierStart(_ c: Unicode.Scalar) -> Bool {
            c == "_" || c.properties.isAlphabetic
        }
        func isIdentifierPart(_ c: Unicode.Scalar) -> Bool {
            isIdentifierStart(c) || c == "$" || ("0"..."9").contains(c)
        }
        while i < chars.count {
            let c = chars[i]
            if c == "'" {
                // A string literal; E'…' literals may also escape with a backslash.
                // The E must stand alone: in `name'C:\'` it ends a type name, and the backslash escapes nothing.
                let escapes =
                    i > 0 && (chars[i - 1] == "E" || chars[i - 1] == "e") && (i < 2 || !isIdentifierPart(chars[i - 2]))
                i += 1
                while i < chars.count {
                    if escapes && chars[i] == "\\" { i += 2; continue }
                    if chars[i] == "'" {
                        if i + 1 < chars.count && chars[i + 1] == "'" { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
            } else if c == "\"" {
                let start = i
                var name = ""
                i += 1
                while i < chars.count {
                    if chars[i] == "\"" {
                        if i + 1 < chars.count && chars[i + 1] == "\"" {
                            name.unicodeScalars.append("\""); i += 2; continue
                        }
                        break
                    }
                    name.unicodeScalars.append(chars[i])
                    i += 1
                }
                i += 1
                names.append(Token(name: name, range: start..<min(i, chars.count)))
            } else if c == "-" && i + 1 < chars.count && chars[i + 1] == "-" {
                while i < chars.count && chars[i] != "\n" { i += 1 }
            } else if c == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                i += 2
                while i + 1 < chars.count && !(chars[i] == "*" && chars[i + 1] == "/") { i += 1 }
                i += 2
            } else if c == "$", let end = dollarQuoteEnd(chars, from: i) {
                i = end
            } else if isIdentifierStart(c) {
                let start = i
                var name = ""
                while i < chars.count && isIdentifierPart(chars[i]) {
                    name.unicodeScalars.append(chars[i])
                    i += 1
                }
                // E'…' is a literal's prefix, not an identifier.
                if (name == "E" || name == "e") && i < chars.count && chars[i] == "'" { continue }
                names.append(Token(name: name.lowercased(), range: start..<i))
            } else if ("0"..."9").contains(c) {
                while i < chars.count && (isIdentifierPart(chars[i]) || chars[i] == ".") { i += 1 }
            } else {
                i += 1
            }
        }
        return names
    }

    /// The index just past a dollar-quoted string starting at `start` (`$$…$$` or `$tag$…$tag$`), if one starts
    /// there.
    private static func dollarQuoteEnd(_ chars: [Unicode.Scalar], from start: Int) -> Int? {
        var j = start + 1
        while j < chars.count && chars[j] != "$" {
            guard chars[j] == "_" || chars[j].properties.isAlphabetic || ("0"..."9").contains(chars[j]) else {
                return nil
            }
            j += 1
        }
        guard j < chars.count else { return nil }
        let tag = Array(chars[start...j])
        var k = j + 1
        while k + tag.count <= chars.count {
            if Array(chars[k..<(k + tag.count)]) == tag { return k + tag.count }
            k += 1
        }
        return chars.count
    }
}
