import Yams

extension Node {
    /// The node's resolved tag name (`.null`, `.int`, `.str`, …); Yams keeps `Tag.name` internal.
    var tagName: Tag.Name {
        Tag.Name(rawValue: tag.rawValue)
    }
}
