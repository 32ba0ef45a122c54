import PGClient

/// A schema-qualified table name.
public struct TableName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public var schema: String
    public var name: String

    /// A name from its parts, exactly as the database spells them (no folding, no quotes).
    public init(schema: String, name: String) {
        self.schema = schema
        self.name = name
    }

    /// Parses `users` (schema public), `public.users` or `"My Schema"."Odd.Name"`; nil when it is not a valid name.
    public init?(parsing text: String) {
        guard let parsed = try? TableName(validating: text) else { return nil }
        self = parsed
    }

    /// Parses like `init?(parsing:)`, saying what is wrong when the text is not a valid name.
    init(validating text: String) throws(IdentifierError) {
        let parts = try SQLIdentifier.parts(of: text)
        switch parts.count {
        case 1: self.init(schema: "public", name: parts[0])
        case 2: self.init(schema: parts[0], name: parts[1])
        default: throw IdentifierError("has \(parts.count) parts; write table or schema.table")
        }
    }

    /// Each part double-quoted with inner quotes doubled, ready to splice into SQL: `"public"."users"`.
    public var quoted: String {
        SQLQuoting.qualified(schema: schema, name: name)
    }

    /// `public.users`; a part that needs quotes to read back the same is shown quoted.
    public var description: String {
        SQLIdentifier.display(schema) + "." + SQLIdentifier.display(name)
    }

    /// Orders by schema, then name.
    public static func < (lhs: TableName, rhs: TableName) -> Bool {
        (lhs.schema, lhs.name) < (rhs.schema, rhs.name)
    }
}
