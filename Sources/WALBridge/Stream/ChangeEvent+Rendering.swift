import PGOutput

/// Type OIDs whose text form `tail` prints as a JSON number or boolean.
private enum TypeOID {
    static let bool: UInt32 = 16
    static let integers: Set<UInt32> = [20, 21, 23, 26]  // int8, int2, int4, oid
}

extension ChangeEvent {
    /// One JSON object on one line. Values are strings in PostgreSQL's text format (integers and
    /// booleans as JSON numbers and booleans), SQL NULL is `null`, and an unchanged TOAST value that
    /// the server did not send is `{"unchanged_toast":true}`.
    public var json: String {
        var out = JSONText()
        out.raw("{")
        out.key("lsn", first: true)
        out.string(lsn.description)
        if let xid {
            out.key("xid")
            out.raw(String(xid))
        }
        if let commitTime {
            out.key("commit_time")
            out.string(commitTime.iso8601)
        }
        out.key("op")
        out.string(operation.rawValue)
        if let relation {
            out.key("table")
            out.string(relation.qualifiedName)
            if let new {
                out.key("new")
                out.raw(Self.jsonObject(relation.columns, new, keysOnly: false))
            }
            if let old {
                out.key("old")
                out.raw(Self.jsonObject(relation.columns, old.values, keysOnly: old.kind == .key))
            }
            if operation == .truncate {
                out.key("cascade")
                out.raw(String(cascade))
                out.key("restart_identity")
                out.raw(String(restartIdentity))
            }
        }
        if let message {
            out.key("transactional")
            out.raw(String(message.transactional))
            out.key("prefix")
            out.string(message.prefix)
            if let text = String(validating: message.content, as: UTF8.self) {
                out.key("content")
                out.string(text)
            } else {
                out.key("content_hex")
                out.string(message.content.hexString)
            }
        }
        out.raw("}")
        return out.text
    }

    /// A compact line for people: position, transaction, operation, table and `column=value` pairs.
    public var text: String {
        var parts = [lsn.description]
        if let xid { parts.append("xid=\(xid)") }
        parts.append(operation.rawValue.uppercased())
        if let relation {
            parts.append(relation.qualifiedName)
            if let new { parts.append(Self.pairs(relation.columns, new, keysOnly: false)) }
            if let old {
                parts.append("(old: \(Self.pairs(relation.columns, old.values, keysOnly: old.kind == .key)))")
            }
            if cascade { parts.append("CASCADE") }
            if restartIdentity { parts.append("RESTART IDENTITY") }
        }
        if let message {
            parts.append(message.transactional ? "transactional" : "non-transactional")
            parts.append("prefix=\(Self.quoted(message.prefix))")
            let content =
                String(validating: message.content, as: UTF8.self).map(Self.quoted) ?? "\\x" + message.content.hexString
            parts.append("content=\(Self.abbreviated(content))")
        }
        return parts.filter { !$0.isEmpty }.joined(separator: " ")
    }

    private static func jsonObject(_ columns: [RelationColumn], _ values: [TupleValue], keysOnly: Bool) -> String {
        var out = JSONText()
        out.raw("{")
        var first = true
        for (column, value) in zip(columns, values) where !keysOnly || column.isKey {
            out.key(column.name, first: first)
            first = false
            switch value {
            case .null:
                out.raw("null")
            case .unchangedToast:
                out.raw("{\"unchanged_toast\":true}")
            case .binary(let bytes):
                out.raw("{\"binary\":\"\(bytes.hexString)\"}")
            case .text(let bytes):
                let text = String(decoding: bytes, as: UTF8.self)
                if column.typeOID == TypeOID.bool, text == "t" || text == "f" {
                    out.raw(text == "t" ? "true" : "false")
                } else if TypeOID.integers.contains(column.typeOID), text.isPlainInteger {
                    out.raw(text)
                } else {
                    out.string(text)
                }
            }
        }
        out.raw("}")
        return out.text
    }

    private static func pairs(_ columns: [RelationColumn], _ values: [TupleValue], keysOnly: Bool) -> String {
        zip(columns, values).filter { !keysOnly || $0.0.isKey }.map { column, value in
            let shown: String
            switch value {
            case .null: shown = "NULL"
            case .unchangedToast: shown = "<unchanged toast>"
            case .binary(let bytes): shown = abbreviated("\\x" + bytes.hexString)
            case .text(let bytes):
                let text = String(decoding: bytes, as: UTF8.self)
                shown = TypeOID.integers.contains(column.typeOID) || column.typeOID == TypeOID.bool
                    ? text : abbreviated(quoted(text))
            }
            return "\(column.name)=\(shown)"
        }.joined(separator: " ")
    }

    private static func quoted(_ text: String) -> String {
        "'" + text.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "''") + "'"
    }

    /// Long values are cut for the terminal, saying how long they were.
    private static func abbreviated(_ text: String) -> String {
        guard text.count > 80 else { return text }
        return String(text.prefix(60)) + "…(\(text.utf8.count) bytes)"
    }
}

extension String {
    /// Whether the string is an optional minus sign followed by digits, so it can stand as a JSON number.
    fileprivate var isPlainInteger: Bool {
        let digits = utf8.first == UInt8(ascii: "-") ? Substring(self).dropFirst() : Substring(self)
        return !digits.isEmpty && digits.utf8.allSatisfy { $0 >= 48 && $0 <= 57 }
    }
}

extension Collection where Element == UInt8 {
    /// Lowercase hex digits, two per byte.
    var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(count * 2)
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
