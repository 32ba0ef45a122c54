/// Appends JSON text without Foundation, keeping keys in the order written.
struct JSONText {
    private(set) var text = ""

    /// Appends a JSON string literal.
    mutating func string(_ value: String) {
        text.append("\"")
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text.append("\\\"")
            case "\\": text.append("\\\\")
            case "\n": text.append("\\n")
            case "\r": text.append("\\r")
            case "\t": text.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text.append("\"")
    }

    /// Appends text that is already valid JSON (a number, `true`, `null`, an object built elsewhere).
    mutating func raw(_ json: String) {
        text.append(json)
    }

    /// Appends `"key":`, with a comma before it unless it opens the object.
    mutating func key(_ name: String, first: Bool = false) {
        if !first { text.append(",") }
        string(name)
        text.append(":")
    }
}
