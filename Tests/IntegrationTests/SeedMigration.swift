import Foundation
import Logging
import PGClient
import Testing
import WALBridge

/// The seed documents' migration on live clusters: the legacy schema on the source, the new one on
/// the target, the example configuration pointed at both, and an oracle that evaluates the mapping
/// over the source to say what the target must hold.
struct SeedMigration {
    let source: ConnectionString
    let target: ConnectionString
    let configuration: Configuration

    static let legacySchema = """
        CREATE TABLE users (id bigserial PRIMARY KEY, name text NOT NULL, email text UNIQUE,
                            address_street text, address_city text, address_postal_code text, bio text);
        ALTER TABLE users ALTER COLUMN bio SET STORAGE EXTERNAL;
        CREATE TABLE products (id bigserial PRIMARY KEY, name text NOT NULL, price bigint NOT NULL);
        """
    static let newSchema = """
        CREATE TABLE users_v2 (id bigint PRIMARY KEY, full_name text NOT NULL, email text UNIQUE);
        CREATE TABLE addresses (user_id bigint PRIMARY KEY, street text, city text, postal_code text);
        CREATE TABLE products_v2 (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2) NOT NULL);
        """

    /// An edit that replaces the example configuration's `tables:` section with `tables` (YAML from `tables:` on).
    static func tables(_ tables: String) -> (String) -> String {
        { text in String(text[..<text.range(of: "\ntables:")!.lowerBound]) + "\n" + tables }
    }

    /// The example configuration file, with a slot name of its own and edits applied to its text; without its
    /// `reverse:` mapping unless `reverse` (the seed's legacy users.bio has no way back).
    static func configurationText(
        slot: String, reverse: Bool = false, edit: (String) -> String = { $0 }
    ) throws -> String {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples/walbridge.yml").standardized.path
        var text = try String(contentsOfFile: path, encoding: .utf8)
        if !reverse, let cut = text.range(of: "\n# After the cut-over") {
            text = String(text[..<cut.lowerBound]) + "\n"
        }
        text = text
            .replacingOccurrences(of: "slot: walbridge_shop", with: "slot: \(slot)")
            .replacingOccurrences(of: "publication: walbridge_shop", with: "publication: \(slot)")
        return edit(text)
    }

    /// Runs `body` with fresh source and target databases holding the seed schemas.
    static func with<R>(
        legacySchema: String = legacySchema, targetSchema: String = newSchema, inPlace: Bool = false,
        edit: @escaping (String) -> String = { $0 }, _ body: (SeedMigration) async throws -> R
    ) async throws -> R {
        try await TestClusters.withDatabase(on: try TestClusters.source) { source in
            func setUp(_ target: ConnectionString) async throws -> R {
                try await PGConnection.connect(source).closing { try await $0.simpleQuery(legacySchema) }
                if !inPlace {
                    try await PGConnection.connect(target).closing { try await $0.simpleQuery(targetSchema) }
                }
                let slot = "wbt_\(UInt32.random(in: 0...UInt32.max))"
                let text = try configurationText(slot: slot, edit: edit)
                let configuration = try Configuration.parse(
                    yaml: text, file: "walbridge.yml",
                    environment: ["WALBRIDGE_SOURCE": source.raw, "WALBRIDGE_TARGET": target.raw])
                return try await body(SeedMigration(source: source, target: target, configuration: configuration))
            }
            if inPlace { return try await setUp(source) }
            return try await TestClusters.withDatabase(on: try TestClusters.target, setUp)
        }
    }

    /// The example configuration (with this migration's slot and `edit` applied) in a temporary file, and the
    /// environment that points the `walbridge` binary at these databases.
    struct ConfigFile {
        let path: String
        let environment: [String: String]

        /// Removes the file.
        func remove() {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// Writes the configuration file for commands run as the `walbridge` binary.
    func writeConfigFile(edit: (String) -> String = { $0 }) throws -> ConfigFile {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("walbridge-\(UUID().uuidString).yml")
        try Self.configurationText(slot: configuration.slot, edit: edit).write(
            to: file, atomically: true, encoding: .utf8)
        return ConfigFile(
            path: file.path, environment: ["WALBRIDGE_SOURCE": source.raw, "WALBRIDGE_TARGET": target.raw])
    }

    /// Starts the bridge in this process; returns once it streams.
    func start(
        limits: ApplyLimits = ApplyLimits(), backfill: BackfillLimits = BackfillLimits(),
        configuration: Configuration? = nil
    ) async throws -> Task<Void, Error> {
        let streaming = Flag()
        var bridge = Bridge(configuration: configuration ?? self.configuration, logger: Logger(label: "bridge-test"))
        bridge.limits = limits
        bridge.backfillLimits = backfill
        bridge.onStreaming = { _ in await streaming.set() }
        let ended = Flag()
        let task = Task {
            do {
                try await bridge.run()
                await ended.set()
            } catch {
                await ended.set()
                throw error
            }
        }
        let started = await TestClusters.eventually(timeout: .seconds(60)) {
            let streamed = await streaming.isSet
            let stopped = await ended.isSet
            return streamed || stopped
        }
        #expect(started, "the bridge starts streaming")
        return task
    }

    /// What the target must hold, by the oracle, compared with what it holds: one line per difference.
    func differences() async throws -> [String] {
        try await PGConnection.connect(source).closing { source in
            try await PGConnection.connect(target).closing { target in
                var differences: [String] = []
                for table in configuration.tables {
                    // The table's own rows (ONLY), without those of tables inheriting from it; a partitioned table
                    // whole.
                    let kind = try await source.query(
                        "SELECT relkind FROM pg_class WHERE oid = to_regclass($1)", [table.source.quoted]
                    ).scalar
                    let rows = kind == "p" ? table.source.quoted : "ONLY \(table.source.quoted)"
                    for mapping in table.targets where mapping.into != table.source {
                        let types = try await target.query("""
                            SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
                            WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped
                            """, [mapping.into.quoted]).rows
                        let type = Dictionary(uniqueKeysWithValues: types.map { ($0[0] ?? "", $0[1] ?? "text") })
                        let order = mapping.key.map { key in
                            String(mapping.columns.firstIndex { $0.column == key }! + 1)
                        }.joined(separator: ", ")
                        let expected = try await source.query("""
                            SELECT \(mapping.columns.map { "((\($0.expression))::\(type[$0.column] ?? "text"))::text" }
                                .joined(separator: ", "))
                            FROM \(rows) WHERE \(mapping.when ?? "true") ORDER BY \(order)
                            """).rows
                        let actual = try await target.query("""
                            SELECT \(mapping.columns.map { "\(SQLQuoting.identifier($0.column))::text" }
                                .joined(separator: ", "))
                            FROM \(mapping.into.quoted) ORDER BY \(order)
                            """).rows
                        if expected != actual {
                            differences.append("""
                                \(mapping.into): expected \(expected.count) rows, target has \(actual.count); \
                                first difference: \(zip(expected, actual).first { $0 != $1 }.map { "\($0) vs \($1)" }
                                    ?? "in the extra rows")
                                """)
                        }
                    }
                }
                return differences
            }
        }
    }

    /// Waits until the target equals the oracle.
    func converges(timeout: Duration = .seconds(30)) async throws -> Bool {
        await TestClusters.eventually(timeout: timeout) { (try? await differences().isEmpty) == true }
    }

    /// The backfill state of every table of the slot (`pending`, `copying`, `done`), by source table.
    func backfillStates() async throws -> [String: String] {
        try await PGConnection.connect(target).closing { target in
            let rows = try await target.query(
                "SELECT source_table, state FROM walbridge.backfill WHERE slot = $1", [configuration.slot]
            ).rows
            return Dictionary(uniqueKeysWithValues: rows.map { ($0[0] ?? "", $0[1] ?? "") })
        }
    }

    /// Waits until every mapped table's backfill is done.
    func backfillDone(timeout: Duration = .seconds(120)) async -> Bool {
        await TestClusters.eventually(timeout: timeout) {
            let states = (try? await backfillStates()) ?? [:]
            return states.count == configuration.tables.count && states.values.allSatisfy { $0 == "done" }
        }
    }

    /// Makes the source's walsenders for this database stream every transaction that decodes to more than 64 kB, before
    /// it commits.
    func streamLargeTransactions() async throws {
        let database =
            try await PGConnection.connect(source).closing { try await $0.query("SELECT current_database()").scalar }
            ?? ""
        try await onSource("ALTER DATABASE \(SQLQuoting.identifier(database)) SET logical_decoding_work_mem = '64kB'")
    }

    /// Runs SQL on the source.
    func onSource(_ sql: String, _ parameters: [String?] = []) async throws {
        try await PGConnection.connect(source).closing { _ = try await $0.query(sql, parameters) }
    }

    /// Runs several statements on the source in one simple-query message: one transaction, up to a COMMIT it says.
    func onSourceScript(_ sql: String) async throws {
        try await PGConnection.connect(source).closing { _ = try await $0.simpleQuery(sql) }
    }

    /// The first column of the first row of a target query.
    func targetScalar(_ sql: String, _ parameters: [String?] = []) async throws -> String? {
        try await PGConnection.connect(target).closing { try await $0.query(sql, parameters).scalar }
    }
}

/// A one-way flag for tasks to wait on.
actor Flag {
    private(set) var isSet = false
    func set() { isSet = true }
}
