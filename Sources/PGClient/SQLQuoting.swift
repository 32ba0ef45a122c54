/// Quoting for the places where a name or value cannot be a bound parameter (replication commands, DDL).
public enum SQLQuoting {
    /// A double-quoted identifier: `my "table"` → `"my ""table"""`.
    public static func identifier(_ name: String) -> String {
        "\"" + name.replacingAll("\"", with: "\"\"") + "\""
    }

    /// A schema-qualified name with each part quoted: `public.users` → `"public"."users"`.
    public static func qualified(schema: String, name: String) -> String {
        identifier(schema) + "." + identifier(name)
    }

    /// A single-quoted string literal (standard-conforming: only `'` is doubled).
    public static func literal(_ value: String) -> String {
        "'" + value.replacingAll("'", with: "''") + "'"
    }
}

extension String {
    /// Every occurrence of one character replaced, without Foundation.
    func replacingAll(_ character: Character, with replacement: String) -> String {
        var result = ""
        result.reserveCapacity(count + 2)
        for c in self {
            if c == character { result += replacement } else { result.append(c) }
        }
        return result
    }
}
