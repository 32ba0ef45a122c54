import Foundation
import PGClient

/// A whole migration, as one YAML file describes it.
public struct Configuration: Sendable {
    public var source: DatabaseAddress
    public var target: DatabaseAddress
    /// The logical replication slot on the source.
    public var slot: String
    /// The publication on the source.
    public var publication: String
    /// In file order.
    public var tables: [TableMapping]
    public var onError: OnError
    public var backfill: BackfillMode
    /// Rows per second for the initial copy; nil = unlimited.
    public var backfillRate: Int?
    /// Where to serve metrics, `host:port`.
    public var metrics: String?
    /// WAL the slot may keep on the source before the bridge warns (`retained_wal_warning`).
    public var retainedWALWarningBytes: Int64?
    /// The default warning threshold: 1 GB.
    public static let defaultRetainedWALWarning: Int64 = 1 << 30
    /// The mapping from the new tables back to the legacy ones (`reverse:`), replicated after a cut-over; nil without
    /// one.
    public var reverse: [TableMapping]?
    /// The reverse direction's slot, on the target (`reverse_slot`, by default the slot's name with `_reverse`).
    public var reverseSlot: String
    /// The reverse direction's publication, on the target (`reverse_publication`).
    public var reversePublication: String
    /// The other direction's slot: this one marks its writes so that the other skips them, and skips the other's.
    public var partnerSlot: String?

    /// A configuration with the file's defaults for whatever is not given.
    public init(
        source: DatabaseAddress, target: DatabaseAddress, slot: String, publication: String, tables: [TableMapping],
        onError: OnError = .stop, backfill: BackfillMode = .auto, backfillRate: Int? = nil, metrics: String? = nil,
        retainedWALWarningBytes: Int64? = defaultRetainedWALWarning
    ) {
        self.source = source
        self.target = target
        self.slot = slot
        self.publication = publication
        self.tables = tables
        self.onError = onError
        self.backfill = backfill
        self.backfillRate = backfillRate
        self.metrics = metrics
        self.retainedWALWarningBytes = retainedWALWarningBytes
        reverseSlot = Self.reverseName(of: slot)
        reversePublication = Self.reverseName(of: publication)
    }

    /// `name` with `_reverse`, cut to fit PostgreSQL's 63 bytes.
    static func reverseName(of name: String) -> String {
        var base = Substring(name)
        while base.utf8.count > SQLIdentifier.maximumBytes - 8 { base.removeLast() }
        return base + "_reverse"
    }

    /// The reverse direction as a bridge of its own: from the target back to the source, through `reverse:`, without a
    /// backfill (the legacy tables hold the rows already); nil without `reverse:`.
    public var reversed: Configuration? {
        guard let reverse else { return nil }
        var reversed = Configuration(
            source: target, target: source, slot: reverseSlot, publication: reversePublication, tables: reverse,
            onError: onError, backfill: .skip, retainedWALWarningBytes: retainedWALWarningBytes)
        reversed.partnerSlot = slot
        return reversed
    }

    /// The forward direction, with `reverse:` set: it marks its writes for the reverse one.
    func withReverse(
        _ tables: [TableMapping]?, slot reverseSlot: String?, publication reversePublication: String?
    ) -> Configuration {
        var configuration = self
        configuration.reverse = tables
        if let reverseSlot { configuration.reverseSlot = reverseSlot }
        if let reversePublication { configuration.reversePublication = reversePublication }
        configuration.partnerSlot = tables == nil ? nil : configuration.reverseSlot
        return configuration
    }

    /// Reads and validates a file; `environment` supplies ${NAME} and the WALBRIDGE_SOURCE / WALBRIDGE_TARGET
    /// overrides.
    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Configuration {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigurationError(file: path, line: nil, column: nil, path: "", message: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw ConfigurationError(
                file: path, line: nil, column: nil, path: "", message: "is a directory, not a YAML file")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(
                file: path, line: nil, column: nil, path: "", message: "cannot be read; check its permissions")
        }
        guard let yaml = String(data: data, encoding: .utf8) else {
            throw ConfigurationError(file: path, line: nil, column: nil, path: "", message: "is not UTF-8 text")
        }
        return try parse(yaml: yaml, file: path, environment: environment)
    }

    /// Parses YAML text; `file` names it in messages.
    public static func parse(yaml: String, file: String, environment: [String: String]) throws -> Configuration {
        try ConfigurationParser(file: file, environment: environment).configuration(yaml: yaml)
    }
}
