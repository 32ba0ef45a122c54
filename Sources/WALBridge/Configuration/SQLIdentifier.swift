import PGClient

/// PostgreSQL's rules for writing names: unquoted parts fold to lower case, double-quoted parts are kept as written.
enum SQLIdentifier {
    /// The longest name PostgreSQL keeps (NAMEDATALEN - 1); longer ones it silently truncates.
    static let maximumBytes = 63

    /// The dot-separated parts of `text` as the database will see them, or a sentence saying what is wrong.
    static func parts(of text: String) throws(IdentifierError) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var parts: [String] = []
        var i = 0
        func skipSpaces() {
            while i < scalars.count && scalars[i].properties.isWhitespace { i += 1 }
        }
        while true {
            skipSpaces()
            guard i < scalars.count else {
                throw IdentifierError(parts.isEmpty ? "is empty" : "ends with '.' but no name follows it")
            }
            let part: String
            if scalars[i] == "\"" {
                var name = ""
                i += 1
                while true {
                    guard i < scalars.count else { throw IdentifierError("has a '\"' that is never closed") }
                    if scalars[i] == "\"" {
                        guard i + 1 < scalars.count && scalars[i + 1] == "\"" else { break }
                        i += 1
                    }
                    name.unicodeScalars.append(scalars[i])
                    i += 1
                }
                i += 1
                guard !name.isEmpty else { throw IdentifierError("has an empty quoted name \"\"") }
                part = name
            } else if isStart(scalars[i]) {
                var name = ""
                while i < scalars.count && isPart(scalars[i]) {
                    name.unicodeScalars.append(folded(scalars[i]))
                    i += 1
                }
                part = name
            } else {
                throw IdentifierError(
                    "has '\(scalars[i])' where a name should start; a name starts with a letter or '_', "
                        + "or write it in double quotes")
            }
            guard part.utf8.count <= maximumBytes else {
                throw IdentifierError("has a name longer than \(maximumBytes) bytes, which PostgreSQL would truncate")
            }
            parts.append(part)
            skipSpaces()
            guard i < scalars.count else { return parts }
            guard scalars[i] == "." else {
                throw IdentifierError(
                    "has '\(scalars[i])' after a name; only letters, digits, '_' and '$' may appear unquoted, "
                        + "so write the name in double quotes")
            }
            i += 1
        }
    }

    /// The single name in `text`, e.g. a column; a qualified name is an error.
    static func name(_ text: String) throws(IdentifierError) -> String {
        let parts = try parts(of: text)
        guard parts.count == 1 else { throw IdentifierError("must be a single name, not a qualified one") }
        return parts[0]
    }

    /// `name` as written in SQL: bare when PostgreSQL would read it back unchanged, else double-quoted.
    static func display(_ name: String) -> String {
        let scalars = Array(name.unicodeScalars)
        let bare = scalars.first.map { isStart($0) && folded($0) == $0 } == true
            && scalars.allSatisfy { isPart($0) && folded($0) == $0 }
        return bare ? name : SQLQuoting.identifier(name)
    }

    private static func isStart(_ c: Unicode.Scalar) -> Bool {
        c == "_" || c.properties.isAlphabetic
    }

    private static func isPart(_ c: Unicode.Scalar) -> Bool {
        isStart(c) || c == "$" || ("0"..."9").contains(c)
    }

    /// PostgreSQL folds only ASCII letters in UTF-8 databases.
    private static func folded(_ c: Unicode.Scalar) -> Unicode.Scalar {
        ("A"..."Z").contains(c) ? Unicode.Scalar(c.value + 32) ?? c : c
    }
}
