/// `${NAME}` references in connection strings, replaced from the environment.
enum EnvironmentSubstitution {
    /// Why a reference could not be replaced; never carries the surrounding text, which may hold a password.
    enum Failure: Error, Equatable {
        /// `${NAME}` names a variable that is not set.
        case unset(String)
        /// `${` is not followed by a variable name and `}`.
        case malformed
    }

    /// `text` with each `${NAME}` replaced by the variable's value; a lone `$` is kept as it is.
    static func expand(_ text: String, environment: [String: String]) throws(Failure) -> String {
        var result = ""
        var rest = Substring(text)
        while let dollar = rest.firstIndex(of: "$") {
            result += rest[..<dollar]
            let afterDollar = rest.index(after: dollar)
            guard afterDollar < rest.endIndex, rest[afterDollar] == "{" else {
                result.append("$")
                rest = rest[afterDollar...]
                continue
            }
            let nameStart = rest.index(after: afterDollar)
            guard let close = rest[nameStart...].firstIndex(of: "}") else { throw .malformed }
            let name = String(rest[nameStart..<close])
            guard isVariableName(name) else { throw .malformed }
            guard let value = environment[name] else { throw .unset(name) }
            result += value
            rest = rest[rest.index(after: close)...]
        }
        return result + rest
    }

    /// A shell variable name: a letter or `_`, then letters, digits or `_`.
    private static func isVariableName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || (first.isASCII && first.properties.isAlphabetic)
        else { return false }
        return name.unicodeScalars.allSatisfy {
            $0 == "_" || ($0.isASCII && $0.properties.isAlphabetic) || ("0"..."9").contains($0)
        }
    }
}
