import Foundation
import Testing

/// What a command writes where a user's log or pipe takes it rather than a terminal.
@Suite("walbridge's output in a log file")
struct CommandOutputTests {
    @Test("standard output is written line by line: a refusal on stderr comes after the narration that led to it")
    func narrationBeforeRefusal() async throws {
        try await SeedMigration.with { seed in
            let file = try seed.writeConfigFile()
            defer { file.remove() }
            let log = FileManager.default.temporaryDirectory.appendingPathComponent(
                "walbridge-log-\(UUID().uuidString)")
            FileManager.default.createFile(atPath: log.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: log) }
            let process = Process()
            process.executableURL = CommandRun.binary
            process.arguments = ["cutover", "--config", file.path, "--verify", "skip"]
            process.environment = ProcessInfo.processInfo.environment.merging(file.environment) { $1 }
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            process.waitUntilExit()
            let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").map(String.init)
            #expect(process.terminationStatus == 1, "\(lines)")
            let gates = lines.firstIndex { $0.contains("Gates") }
            let refusal = lines.firstIndex { $0.contains("error") || $0.contains("refus") }
            #expect(gates != nil && refusal != nil && gates! < refusal!, "\(lines)")
        }
    }
}
