import PGClient

/// PostgreSQL `text[]` literals.
enum TextArray {
    /// `{"a","b\"c",NULL}` for the given values.
    static func literal(_ values: [String?]) -> String {
        "{" + values.map { value in
            guard let value else { return "NULL" }
            var text = "\""
            for scalar in value.unicodeScalars {
                if scalar == "\"" || scalar == "\\" { text.unicodeScalars.append("\\") }
                text.unicodeScalars.append(scalar)
            }
            return text + "\""
        }.joined(separator: ",") + "}"
    }

    /// The elements of a `text[]` as PostgreSQL prints it (no NULL elements).
    static func parse(_ literal: String) -> [String] {
        var values: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for character in literal.dropFirst().dropLast() {
            if escaped {
                current.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == "\"" {
                quoted.toggle()
            } else if character == "," && !quoted {
                values.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        if literal.count > 2 { values.append(current) }
        return values
    }
}
