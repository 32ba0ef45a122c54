import Foundation
import Logging

/// A swift-log handler that writes one JSON object per line to standard error, for log collectors:
/// `{"time":…,"level":…,"label":…,"message":…,"source":…,<metadata>…}`.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    /// A handler for `label` that drops messages below `level`.
    public init(label: String, level: Logger.Level) {
        self.label = label
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var json = JSONText()
        json.raw("{")
        json.key("time", first: true)
        json.string(Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))
        json.key("level")
        json.string(event.level.rawValue)
        json.key("label")
        json.string(label)
        json.key("message")
        json.string(event.message.description)
        json.key("source")
        json.string(event.source)
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: {
            $0.key < $1.key
        }) {
            json.key(key)
            json.string("\(value)")
        }
        json.raw("}\n")
        FileHandle.standardError.write(Data(json.text.utf8))
    }
}
