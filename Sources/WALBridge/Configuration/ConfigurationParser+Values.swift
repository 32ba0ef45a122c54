import Yams

/// Reading single values out of YAML nodes, each failure a ConfigurationError at the node.
extension ConfigurationParser {
    /// An error placed at `node` (or at no place when it is nil).
    func error(at node: Node?, _ path: String, _ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: node?.mark?.line, column: node?.mark?.column, path: path, message: message)
    }

    /// `node` as a mapping whose keys are all among `allowed`; a misspelled key gets a suggestion.
    func mapping(_ node: Node, at path: String, allowed: [String], what: String) throws -> CheckedMapping {
        guard case .mapping(let mapping) = node else {
            let subject = path.isEmpty ? "the file must be" : "must be"
            throw error(at: node, path, "\(subject) \(what), not \(kind(of: node))")
        }
        var entries: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            let key = try keyText(keyNode, in: path)
            let keyPath = path.isEmpty ? key : "\(path).\(key)"
            guard allowed.contains(key) else {
                let hint = KeySuggestion.closest(to: key, among: allowed).map { "did you mean '\($0)'?" }
                    ?? "the keys allowed here are \(allowed.joined(separator: ", "))"
                throw error(at: keyNode, keyPath, "unknown key '\(key)'; \(hint)")
            }
            entries.append((key, keyNode, value))
        }
        return CheckedMapping(node: node, path: path, entries: entries)
    }

    /// The value under `key`, or an error at the mapping saying what to add.
    func required(_ mapping: CheckedMapping, _ key: String, _ hint: String) throws -> Node {
        guard let node = mapping[key] else {
            throw error(at: mapping.node, mapping.path(of: key), "is required: \(hint)")
        }
        return node
    }

    /// A key's text; keys must be plain scalars.
    func keyText(_ node: Node, in path: String) throws -> String {
        guard case .scalar(let scalar) = node else {
            throw error(at: node, path, "has \(kind(of: node)) as a key; keys must be plain names")
        }
        return scalar.string
    }

    /// A scalar's text as written (a number or `true` counts as its text); a list, mapping or empty value is an error.
    func text(_ node: Node, at path: String) throws -> String {
        guard case .scalar(let scalar) = node, node.tagName != .null else {
            throw error(at: node, path, "must be text, not \(kind(of: node))")
        }
        return scalar.string
    }

    /// One of an enumeration's raw values; anything else is an error listing them.
    func choice<T: RawRepresentable & CaseIterable>(_ node: Node, at path: String) throws -> T
    where T.RawValue == String {
        let value = try text(node, at: path)
        guard let choice = T(rawValue: value) else {
            let allowed = T.allCases.map(\.rawValue)
            throw error(at: node, path, "'\(value)' is not allowed; use one of \(allowed.joined(separator: ", "))")
        }
        return choice
    }

    /// `node`'s items; an empty list is an error that says what to put in it.
    func nonEmptyList(_ node: Node, at path: String, what: String) throws -> [Node] {
        if case .sequence(let sequence) = node, !sequence.isEmpty { return Array(sequence) }
        if node.tagName == .null || node.sequence != nil {
            throw error(at: node, path, "is empty; it must list \(what)")
        }
        throw error(at: node, path, "must be a list of \(what), not \(kind(of: node))")
    }

    /// `node` as a mapping with at least one entry, its keys not yet checked; empty or absent is an error.
    func nonEmptyMapping(_ node: Node, at path: String, what: String) throws -> Node.Mapping {
        if case .mapping(let mapping) = node, !mapping.isEmpty { return mapping }
        if node.tagName == .null || node.mapping != nil { throw error(at: node, path, "is empty; it must be \(what)") }
        throw error(at: node, path, "must be \(what), not \(kind(of: node))")
    }

    /// How a node reads to a person, for "must be X, not Y"; never its text, which may be a password.
    func kind(of node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        case .scalar:
            switch node.tagName {
            case .null: return "an empty value"
            case .int, .float: return "a number"
            case .bool: return "true or false"
            default: return "text"
            }
        }
    }
}
