import Foundation

/// Two throwaway PostgreSQL clusters for the demo, legacy (`wal_level=logical`) and new, in a temporary folder.
final class DemoClusters: Sendable {
    let folder: URL
    /// The legacy cluster's connection string (trust authentication: no password).
    let legacy: String
    /// The new cluster's connection string.
    let new: String
    private let bin: String

    /// Initialises and starts both clusters on free loopback ports (as the `postgres` user when run as root).
    init() throws {
        guard let bin = Self.serverBinaries() else {
            throw DemoError(
                "walbridge demo needs the PostgreSQL server (initdb, pg_ctl): install it with `apt-get install -y "
                    + "postgresql-15`, or put its bin folder on PATH")
        }
        self.bin = bin
        folder = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent(
            "walbridge-demo-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres:", folder.path]) }
        do {
            let legacyPort = try Self.start(
                bin: bin, data: folder.appendingPathComponent("legacy").path, socket: folder.path, walLevel: "logical")
            let newPort = try Self.start(
                bin: bin, data: folder.appendingPathComponent("new").path, socket: folder.path, walLevel: "logical")
            legacy = "host=127.0.0.1 port=\(legacyPort) user=postgres dbname=postgres"
            new = "host=127.0.0.1 port=\(newPort) user=postgres dbname=postgres"
        } catch {
            Self.stop(bin: bin, folder: folder)
            throw error
        }
    }

    /// The shell command that stops both clusters and removes the folder.
    var removeCommand: String {
        let pgCtl = (getuid() == 0 ? "runuser -u postgres -- " : "") + bin + "/pg_ctl"
        return ["legacy", "new"].map { "\(pgCtl) -D \(folder.path)/\($0) stop; " }.joined() + "rm -rf \(folder.path)"
    }

    /// Stops both clusters and removes the folder.
    func remove() {
        Self.stop(bin: bin, folder: folder)
    }

    private static func stop(bin: String, folder: URL) {
        for name in ["legacy", "new"]
        where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
            _ = try? runAsPostgres(
                bin + "/pg_ctl", ["-D", folder.appendingPathComponent(name).path, "-m", "immediate", "-w", "stop"])
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// The folder holding initdb and pg_ctl: PATH first, then Debian's PostgreSQL 15.
    private static func serverBinaries() -> String? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        return (path + ["/usr/lib/postgresql/15/bin"]).first {
            FileManager.default.isExecutableFile(atPath: $0 + "/initdb")
                && FileManager.default.isExecutableFile(atPath: $0 + "/pg_ctl")
        }
    }

    /// Initialises a cluster in `data` and starts it on a free port; returns the port.
    private static func start(bin: String, data: String, socket: String, walLevel: String) throws -> Int {
        try runAsPostgres(
            bin + "/initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        for _ in 0..<20 {
            let port = Int.random(in: 20_000...60_000)
            let options =
                "-c listen_addresses=127.0.0.1 -c port=\(port) -c unix_socket_directories=\(socket) "
                + "-c wal_level=\(walLevel) -c fsync=off -c log_min_messages=warning"
            if (try? runAsPostgres(bin + "/pg_ctl", ["-D", data, "-l", data + ".log", "-o", options, "-w", "start"]))
                != nil {
                return port
            }
        }
        throw DemoError("no free port for a demo cluster; see \(data).log")
    }

    /// Runs a PostgreSQL program, as the `postgres` user when we are root (the server refuses root).
    private static func runAsPostgres(_ program: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", program] + arguments)
        } else {
            try run(program, arguments)
        }
    }

    /// Runs `program` to completion with posix_spawn and waitpid (Foundation's Process does not notice these
    /// children exit); its output goes to a file, read back for the error.
    private static func run(_ program: String, _ arguments: [String]) throws {
        let output = NSTemporaryDirectory() + "walbridge-demo-\(UUID().uuidString).out"
        defer { unlink(output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([program] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, program, &actions, nil, argv, environ) == 0 else {
            throw DemoError("cannot start \(program)")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            throw DemoError(
                "\(URL(fileURLWithPath: program).lastPathComponent) failed: "
                    + "\(text.trimmingCharacters(in: .whitespacesAndNewlines).suffix(500))")
        }
    }
}

/// A demo step that could not be done, said in one line.
struct DemoError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
