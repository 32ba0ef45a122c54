/// A problem in a configuration file: where, and what to do.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    /// 1-based; nil when the problem has no place in the file (it cannot be read, or an environment variable is wrong).
    public var line: Int?
    /// 1-based, counted in Unicode scalars.
    public var column: Int?
    /// The key path, e.g. `tables.public.users[1].key`; empty for the file as a whole.
    public var path: String
    public var message: String

    /// An error at a place in `file`.
    public init(file: String, line: Int?, column: Int?, path: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.path = path
        self.message = message
    }

    /// `walbridge.yml:14:7: tables.public.users[1].key: must name at least one column`.
    public var description: String {
        var place = file
        if let line {
            place += ":\(line)"
            if let column { place += ":\(column)" }
        }
        return path.isEmpty ? "\(place): \(message)" : "\(place): \(path): \(message)"
    }
}
