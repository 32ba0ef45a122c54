import Foundation
import PGClient
import Yams

/// Turns the YAML of a configuration file into a checked `Configuration`.
struct ConfigurationParser {
    /// Names the file in messages.
    let file: String
    /// Supplies `${NAME}` and the `WALBRIDGE_SOURCE` / `WALBRIDGE_TARGET` overrides.
    let environment: [String: String]

    /// The keys allowed at the top of the file.
    static let topLevelKeys = [
        "source", "target", "slot", "publication", "tables", "on_error", "backfill", "backfill_rate", "metrics",
        "retained_wal_warning", "reverse", "reverse_slot", "reverse_publication",
    ]

    /// Parses and checks the whole file.
    func configuration(yaml: String) throws -> Configuration {
        guard let root = try compose(yaml) else {
            throw error(
                at: nil, "",
                "the file is empty; it must be a YAML mapping with source, target, slot, publication and tables")
        }
        let top = try mapping(
            root, at: "", allowed: Self.topLevelKeys,
            what: "a YAML mapping with source, target, slot, publication and tables")
        return Configuration(
            source: DatabaseAddress(try connection(top, key: "source", override: "WALBRIDGE_SOURCE")),
            target: DatabaseAddress(try connection(top, key: "target", override: "WALBRIDGE_TARGET")),
            slot: try slot(top),
            publication: try publication(top),
            tables: try tables(
                required(top, "tables", "a mapping from each source table to the targets it feeds"), at: "tables"),
            onError: try top["on_error"].map { try choice($0, at: "on_error") } ?? .stop,
            backfill: try top["backfill"].map { try choice($0, at: "backfill") } ?? .auto,
            backfillRate: try top["backfill_rate"].map(backfillRate),
            metrics: try top["metrics"].map(metrics),
            retainedWALWarningBytes: try top["retained_wal_warning"].map(byteSize)
                ?? Configuration.defaultRetainedWALWarning
        ).withReverse(
            try top["reverse"].map { try tables($0, at: "reverse") },
            slot: try top["reverse_slot"].map { try slot($0, at: "reverse_slot") },
            publication: try top["reverse_publication"].map { try publication($0, at: "reverse_publication") })
    }

    /// `source` or `target`: the environment's override, or the file's value with `${NAME}` replaced; never echoed.
    private func connection(_ top: CheckedMapping, key: String, override variable: String) throws -> ConnectionString {
        if let value = environment[variable], !value.isEmpty {
            do {
                return try ConnectionString(value)
            } catch {
                throw self.error(
                    at: nil, key,
                    "\(variable) (set in the environment, overriding the file) is not a valid connection "
                        + "string \(reason(error))")
            }
        }
        let node = try required(
            top, key, "the \(key) database's libpq connection string or postgresql:// URI (or set \(variable))")
        let written = try text(node, at: key)
        let raw: String
        do {
            raw = try EnvironmentSubstitution.expand(written, environment: environment)
        } catch .unset(let name) {
            throw error(
                at: node, key,
                "uses ${\(name)}, but the environment variable \(name) is not set; set it or write the value")
        } catch {
            throw self.error(at: node, key, "has a '${' that is not followed by a variable name and '}'; write ${NAME}")
        }
        do {
            return try ConnectionString(raw)
        } catch {
            throw self.error(at: node, key, "is not a valid connection string \(reason(error))")
        }
    }

    /// libpq's reason for rejecting a connection string, which `ConnectionString` has cut before any quoted input.
    private func reason(_ error: any Error) -> String {
        let prefix = "malformed connection string: "
        var reason = (error as? PGError)?.message ?? "libpq cannot parse it"
        if reason.hasPrefix(prefix) { reason.removeFirst(prefix.count) }
        while let last = reason.last, last == ":" || last == " " { reason.removeLast() }
        // libpq's `missing "=" after "…"` is cut to its first word.
        if reason == "missing" { reason = "an option has no '='" }
        return "(\(reason)); write key=value options, e.g. host=db dbname=shop, or a postgresql:// URI"
    }

    /// The replication slot's name, which PostgreSQL restricts to lower-case letters, digits and `_`.
    private func slot(_ top: CheckedMapping) throws -> String {
        try slot(
            required(top, "slot", "the name of the logical replication slot on the source, e.g. slot: walbridge_shop"),
            at: "slot")
    }

    /// A replication slot's name under `key`.
    private func slot(_ node: Node, at key: String) throws -> String {
        let slot = try text(node, at: key)
        let allowed = slot.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
        }
        guard allowed, !slot.isEmpty, slot.count <= SQLIdentifier.maximumBytes else {
            throw error(
                at: node, key,
                "'\(slot)' is not a valid replication slot name: use 1 to \(SQLIdentifier.maximumBytes) "
                    + "lower-case letters, digits and underscores, e.g. "
                    + "\(suggestedSlot(slot))")
        }
        return slot
    }

    /// `text` made into a valid slot name, for the error message.
    private func suggestedSlot(_ text: String) -> String {
        let mapped = text.lowercased().unicodeScalars.map { c -> Character in
            ("a"..."z").contains(c) || ("0"..."9").contains(c) ? Character(c) : "_"
        }
        let name = String(mapped).trimmingCharacters(in: CharacterSet(charactersIn: "_"))
        return name.isEmpty ? "walbridge" : String(name.prefix(SQLIdentifier.maximumBytes))
    }

    /// The publication's name: any text of 1 to 63 bytes.
    private func publication(_ top: CheckedMapping) throws -> String {
        try publication(
            required(top, "publication", "the name of the publication on the source, e.g. publication: walbridge_shop"),
            at: "publication")
    }

    /// A publication's name under `key`.
    private func publication(_ node: Node, at key: String) throws -> String {
        let publication = try text(node, at: key)
        guard !publication.isEmpty, publication.utf8.count <= SQLIdentifier.maximumBytes else {
            throw error(
                at: node, key,
                "must be a name of 1 to \(SQLIdentifier.maximumBytes) bytes; PostgreSQL would truncate a longer one")
        }
        return publication
    }

    /// Rows per second for the initial copy: a positive whole number.
    private func backfillRate(_ node: Node) throws -> Int {
        guard node.tagName == .int, let rate = node.int, rate > 0 else {
            let given = node.scalar.map { "'\($0.string)'" } ?? kind(of: node)
            throw error(
                at: node, "backfill_rate",
                "must be a positive whole number of rows per second, e.g. 5000, not \(given); "
                    + "leave it out for no limit")
        }
        return rate
    }

    /// `retained_wal_warning`: bytes, or a number with kB, MB, GB or TB (powers of 1024, as PostgreSQL reads them).
    private func byteSize(_ node: Node) throws -> Int64 {
        let value = (node.scalar?.string ?? "").trimmingCharacters(in: .whitespaces)
        let units: [(String, Int64)] = [
            ("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("kB", 1 << 10), ("B", 1), ("", 1)
        ]
        for (unit, factor) in units where value.hasSuffix(unit) {
            if let number = Int64(value.dropLast(unit.count).trimmingCharacters(in: .whitespaces)), number > 0 {
                return number * factor
            }
            break
        }
        throw error(
            at: node, "retained_wal_warning", "'\(value)' must be a size such as 1GB, 512MB or 1073741824 (bytes)")
    }

    /// The metrics endpoint's `host:port`.
    private func metrics(_ node: Node) throws -> String {
        let value = try text(node, at: "metrics")
        guard let colon = value.lastIndex(of: ":"), colon != value.startIndex,
            let port = UInt16(value[value.index(after: colon)...]), port > 0
        else {
            throw error(at: node, "metrics", "'\(value)' must be host:port, e.g. 127.0.0.1:9187")
        }
        return value
    }
}
