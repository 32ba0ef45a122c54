import Foundation
import PGClient

/// A PostgreSQL cluster of one test's own, for tests that restart servers (which would disturb the shared clusters).
final class PrivateCluster: @unchecked Sendable {
    let directory: URL
    let port: Int
    private static let bin = ProcessInfo.processInfo.environment["WALBRIDGE_TEST_PGBIN"] ?? "/usr/lib/postgresql/15/bin"

    /// Initialises and starts a cluster on a free loopback port.
    init(walLevel: String) throws {
        directory = URL(fileURLWithPath: "/tmp/walbridge-private-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if getuid() == 0 { try Self.shell(["chown", "postgres:", directory.path]) }
        let data = directory.appendingPathComponent("data").path
        try Self.run("initdb", ["-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
        var chosen = 0
        for _ in 0..<20 {
            let candidate = Int.random(in: 20_000...60_000)
            let conf = """
                listen_addresses = '127.0.0.1'
                port = \(candidate)
                unix_socket_directories = '\(directory.path)'
                wal_level = \(walLevel)
                fsync = off
                """
            try (conf + "\n").write(
                to: directory.appendingPathComponent("data/postgresql.auto.conf"), atomically: true, encoding: .utf8)
            if getuid() == 0 {
                try Self.shell([
                    "chown", "postgres:", directory.appendingPathComponent("data/postgresql.auto.conf").path
                ])
            }
            if (try? Self.run(
                "pg_ctl", ["-D", data, "-l", directory.appendingPathComponent("log").path, "-w", "start"])) != nil {
                chosen = candidate
                break
            }
        }
        guard chosen != 0 else { throw ClusterError(message: "no free port for a private cluster") }
        port = chosen
    }

    private var dataPath: String { directory.appendingPathComponent("data").path }

    /// The superuser connection string for `database`.
    func connection(_ database: String = "postgres") throws -> ConnectionString {
        try ConnectionString("host=127.0.0.1 port=\(port) user=postgres dbname=\(database)")
    }

    /// Restarts the server (fast shutdown: sessions are cut) and stays down 1.5 s, so that clients see refused
    /// connections.
    func restart() throws {
        try Self.run("pg_ctl", ["-D", dataPath, "-m", "fast", "-w", "stop"])
        usleep(1_500_000)
        try Self.run("pg_ctl", ["-D", dataPath, "-l", directory.appendingPathComponent("log").path, "-w", "start"])
    }

    /// Stops the server and removes its files.
    func destroy() {
        _ = try? Self.run("pg_ctl", ["-D", dataPath, "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(at: directory)
    }

    private static func run(_ tool: String, _ arguments: [String]) throws {
        let command = ["\(bin)/\(tool)"] + arguments
        try shell(getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + command : command)
    }

    /// Runs a command to completion with its output discarded (posix_spawn and waitpid: Foundation's
    /// Process did not notice these children exit).
    private static func shell(_ command: [String]) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments = command.map { strdup($0) } + [nil]
        defer { arguments.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawnp(&pid, command[0], &actions, nil, arguments, environ) == 0 else {
            throw ClusterError(message: "cannot start \(command[0])")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            throw ClusterError(message: "\(command.joined(separator: " ")) failed with status \(status)")
        }
    }
}

/// A private cluster could not be set up.
struct ClusterError: Error {
    var message: String
}
