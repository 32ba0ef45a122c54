import CLibPQ

/// A libpq connection string (`key=value …` or a `postgresql://` URI), parsed once so it can be printed without its
/// password.
public struct ConnectionString: Sendable, CustomStringConvertible {
    /// The string as given; never log it.
    public let raw: String
    /// The options it sets, in libpq's order, with their values.
    public let options: [(key: String, value: String)]

    /// Parses `raw` with libpq's own parser; a malformed string throws without echoing it.
    public init(_ raw: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(raw, &error) else {
            let reason = error.map { String(cString: $0).trimmingTrailingNewlines() } ?? "out of memory"
            if let error { PQfreemem(error) }
            throw PGError(.connect, "malformed connection string: \(reason.withoutQuotedInput)")
        }
        defer { PQconninfoFree(parsed) }
        var options: [(key: String, value: String)] = []
        var option = parsed
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                options.append((String(cString: keyword), String(cString: value)))
            }
            option += 1
        }
        self.raw = raw
        self.options = options
    }

    /// The value of one option, e.g. `host` or `dbname`.
    public subscript(key: String) -> String? {
        options.first { $0.key == key }?.value
    }

    /// The options as `key=value` pairs with the password masked, safe for logs.
    public var description: String {
        options.map { option in
            let value = option.key == "password" ? "********" : option.value
            let needsQuotes = value.isEmpty || value.contains { $0 == " " || $0 == "'" || $0 == "\\" }
            return needsQuotes ? "\(option.key)='\(value.replacingAll("'", with: "\\'"))'" : "\(option.key)=\(value)"
        }.joined(separator: " ")
    }

    /// `user@host:port/dbname`, the short form used in messages.
    public var summary: String {
        let host = self["host"] ?? self["hostaddr"] ?? "localhost"
        let port = self["port"].map { ":\($0)" } ?? ""
        let user = self["user"].map { "\($0)@" } ?? ""
        let db = self["dbname"].map { "/\($0)" } ?? ""
        return "\(user)\(host)\(port)\(db)"
    }
}

private extension String {
    /// libpq quotes the offending part of the input in some messages; keep only the text before it.
    var withoutQuotedInput: String {
        guard let quote = firstIndex(where: { $0 == "\"" }) else { return self }
        return String(self[..<quote]).trimmingTrailingNewlines()
    }
}
