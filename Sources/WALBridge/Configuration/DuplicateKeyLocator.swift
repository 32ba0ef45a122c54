import Yams

/// Yams reports a duplicated key only at its first occurrence; this finds the repeat and its key path.
///
/// It masks the first occurrence's first Unicode scalar (so no mark moves), composes the text again,
/// and looks in the mapping that holds the masked key for the next key of the same name.
enum DuplicateKeyLocator {
    /// How many duplicates (reported one at a time) it masks before giving up.
    private static let attempts = 20

    /// The `n`th mask: a private-use scalar, different for each masked key so that two masked keys never collide.
    private static func mask(_ n: Int) -> Unicode.Scalar {
        Unicode.Scalar(0xE000 + UInt32(n)) ?? "\u{E000}"
    }

    /// Where `key`, first at `first`, appears again, with the repeat's key path; nil when that cannot be told.
    static func locate(key: String, first: Mark, in yaml: String) -> (path: String, mark: Mark)? {
        var masked: [(line: Int, column: Int, key: String)] = [(first.line, first.column, key)]
        var text = yaml
        for _ in 0..<attempts {
            guard let last = masked.last,
                let patched = YAMLText.replacing(
                    line: last.line, column: last.column, with: mask(masked.count), in: text)
            else { return nil }
            text = patched
            do {
                guard let root = try Yams.compose(yaml: text) else { return nil }
                return search(root, path: "", key: key, first: first, masked: masked)
            } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
                masked.append((context.mark.line, context.mark.column, duplicates.first ?? ""))
            } catch {
                return nil
            }
        }
        return nil
    }

    /// Searches `node` for the mapping whose key sits at `first`, and returns the next key there named `key`.
    private static func search(
        _ node: Node, path: String, key: String, first: Mark, masked: [(line: Int, column: Int, key: String)]
    ) -> (path: String, mark: Mark)? {
        /// A key's name as the file wrote it, seeing through the masks.
        func name(_ keyNode: Node) -> String? {
            guard let mark = keyNode.mark else { return keyNode.string }
            return masked.first { $0.line == mark.line && $0.column == mark.column }?.key ?? keyNode.string
        }
        func join(_ name: String) -> String { path.isEmpty ? name : "\(path).\(name)" }
        switch node {
        case .mapping(let mapping):
            let pairs = Array(mapping)
            if let start = pairs.firstIndex(where: {
                $0.key.mark?.line == first.line && $0.key.mark?.column == first.column
            }) {
                return pairs[(start + 1)...].lazy
                    .compactMap { pair in name(pair.key) == key ? pair.key.mark.map { (join(key), $0) } : nil }
                    .first
            }
            for (keyNode, value) in pairs {
                if let found = search(value, path: join(name(keyNode) ?? "?"), key: key, first: first, masked: masked) {
                    return found
                }
            }
            return nil
        case .sequence(let sequence):
            for (index, item) in sequence.enumerated() {
                if let found = search(item, path: "\(path)[\(index)]", key: key, first: first, masked: masked) {
                    return found
                }
            }
            return nil
        case .scalar, .alias:
            return nil
        }
    }
}
