import Foundation
import PGClient

/// Spelling names and values in generated SQL and YAML.
enum SQLText {
    /// Words that must be quoted as names (the generator uses some of them on purpose).
    static let reserved: Set<String> = [
        "select", "user", "order", "table", "group", "check", "default", "from", "where", "limit", "end", "column",
        "both", "all", "and", "or", "not", "null", "true", "false", "primary", "references", "to", "with", "when",
        "then",
    ]

    /// A name as SQL: bare when PostgreSQL reads it back unchanged, else double-quoted.
    static func ident(_ name: String) -> String {
        let bare = name.unicodeScalars.first.map { ("a"..."z").contains($0) || $0 == "_" } == true
            && name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
            && !reserved.contains(name)
        return bare ? name : SQLQuoting.identifier(name)
    }

    /// `public.name` with the name spelled as SQL.
    static func qualified(_ name: String) -> String {
        "public." + ident(name)
    }

    /// A single-quoted SQL string literal.
    static func literal(_ value: String) -> String {
        SQLQuoting.literal(value)
    }

    /// A YAML single-quoted scalar (only `'` is doubled).
    static func yaml(_ value: String) -> String {
        "'" + value.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// A value cut for printing: up to 60 characters, with the full length when longer; NULL for nil.
    static func short(_ value: String?) -> String {
        guard let value else { return "NULL" }
        let escaped = value.replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: "\\t")
            .replacingOccurrences(of: "\r", with: "\\r")
        if escaped.count <= 60 { return "'" + escaped + "'" }
        return "'" + escaped.prefix(60) + "…' (\(value.count) chars)"
    }

    /// A statement cut for printing in a workload listing: long literals shortened.
    static func abbreviated(_ sql: String, limit: Int = 400) -> String {
        sql.count <= limit ? sql : String(sql.prefix(limit)) + "… (\(sql.count) chars)"
    }
}
