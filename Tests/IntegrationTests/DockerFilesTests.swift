import Foundation
import PGClient
import Testing
import Yams

/// The docker/ set-up: the compose file, the Dockerfile, and the SQL and configuration they use.
@Suite("docker/: compose file, Dockerfile, schema SQL and configuration")
struct DockerFilesTests {
    /// The repository's docker/ folder.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docker").standardized

    /// The services of docker/docker-compose.yml, parsed as YAML.
    static func services() throws -> Node.Mapping {
        let text = try String(contentsOf: folder.appendingPathComponent("docker-compose.yml"), encoding: .utf8)
        return try #require(
            try Yams.compose(yaml: text)?["services"]?.mapping, "docker-compose.yml has a services mapping")
    }

    /// A compose path (relative to docker/ or absolute) as a URL.
    static func url(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : folder.appendingPathComponent(path).standardized
    }

    /// Runs an SQL file of docker/ with psql, stopping at the first error; returns the exit status and output.
    static func psql(_ database: ConnectionString, _ file: String) throws -> (Int32, String) {
        try TestClusters.psql(database, file: folder.appendingPathComponent(file), options: ["-v", "ON_ERROR_STOP=1"])
    }

    @Test("""
        docker-compose.yml is YAML with the services legacy, new and walbridge; legacy runs with wal_level=logical \
        and walbridge waits for both
        """)
    func composeServices() throws {
        let services = try Self.services()
        #expect(Set(services.keys.compactMap(\.string)) == ["legacy", "new", "walbridge"])
        let command = try #require(services["legacy"]?["command"], "legacy has a command")
        let words =
            command.sequence.map { $0.compactMap(\.string) }
            ?? (command.string ?? "").split(separator: " ").map(String.init)
        #expect(zip(words, words.dropFirst()).contains { $0 == "-c" && $1 == "wal_level=logical" }, "\(words)")
        for database in ["legacy", "new"] {
            #expect(
                services["walbridge"]?["depends_on"]?[database]?["condition"]?.string == "service_healthy",
                "walbridge waits for \(database)")
        }
    }

    @Test("""
        every file that docker-compose.yml and the Dockerfile name exists: the Dockerfile, each bind-mounted \
        host path, each COPY source
        """)
    func referencedFilesExist() throws {
        var paths: [URL] = []
        var context: URL?
        var dockerfile: URL?
        for (_, service) in try Self.services() {
            if let build = service["build"] {
                context = Self.url(build["context"]?.string ?? build.string ?? ".")
                dockerfile = context!.appendingPathComponent(build["dockerfile"]?.string ?? "Dockerfile").standardized
                paths.append(dockerfile!)
            }
            for volume in service["volumes"]?.sequence ?? [] {
                let source = volume.string.map { String($0.prefix { $0 != ":" }) } ?? volume["source"]?.string ?? ""
                if source.hasPrefix(".") || source.hasPrefix("/") { paths.append(Self.url(source)) }
            }
        }
        let buildContext = try #require(context, "walbridge is built")
        let buildFile = try #require(dockerfile)
        let lines = try String(contentsOf: buildFile, encoding: .utf8).split(separator: "\n")
        for line in lines where line.uppercased().hasPrefix("COPY ") && !line.contains("--from") {
            let words = line.split(separator: " ").dropFirst().filter { !$0.hasPrefix("--") }
            paths += words.dropLast().map { buildContext.appendingPathComponent(String($0)).standardized }
        }
        #expect(
            paths.count >= 8,
            "the Dockerfile, legacy.sql, new.sql, walbridge.yml and the COPY sources: \(paths.map(\.path))")
        for path in paths {
            #expect(FileManager.default.fileExists(atPath: path.path), "\(path.path) is missing")
        }
    }

    @Test("""
        legacy.sql and new.sql run on the live clusters in fresh databases, and walbridge check passes \
        with docker/walbridge.yml
        """)
    func schemasPassCheck() async throws {
        try await TestClusters.withDatabase(on: try TestClusters.source) { source in
            try await TestClusters.withDatabase(on: try TestClusters.target) { target in
                let (legacyStatus, legacyOutput) = try Self.psql(source, "legacy.sql")
                #expect(legacyStatus == 0, "\(legacyOutput)")
                let (newStatus, newOutput) = try Self.psql(target, "new.sql")
                #expect(newStatus == 0, "\(newOutput)")
                let counts = try await PGConnection.connect(source).closing {
                    try await $0.query(
                        "SELECT (SELECT count(*) FROM users) >= 1000 AND (SELECT count(*) FROM products) >= 1000"
                    ).scalar
                }
                #expect(counts == "t", "legacy.sql fills users and products with sample rows")
                let check = try CommandRun(
                    ["check", "--config", Self.folder.appendingPathComponent("walbridge.yml").path],
                    environment: ["WALBRIDGE_SOURCE": source.raw, "WALBRIDGE_TARGET": target.raw])
                #expect(await check.wait() == 0, "\(check.stdout)\n\(check.stderr)")
                #expect(check.stdout.contains("check passed"), "\(check.stdout)")
            }
        }
    }
}
