import Yams

/// A YAML mapping whose keys are known to be ones allowed at its place, in file order.
struct CheckedMapping {
    /// The mapping node itself, for the place of a missing key.
    let node: Node
    /// Its key path, empty at the top of the file.
    let path: String
    /// Each key's text, its node and its value, in file order.
    let entries: [(key: String, keyNode: Node, value: Node)]

    /// The value under `key`, if the file sets it.
    subscript(key: String) -> Node? {
        entries.first { $0.key == key }?.value
    }

    /// The key path of `key` inside this mapping.
    func path(of key: String) -> String {
        path.isEmpty ? key : "\(path).\(key)"
    }
}
