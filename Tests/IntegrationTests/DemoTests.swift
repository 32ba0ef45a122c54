import Foundation
import Testing

@Suite("walbridge demo")
struct DemoTests {
    @Test("""
        the demo runs end to end on its own clusters: backfill, gray reads at 1%, 10%, 50% and 100%, pause and resume, \
        verify with zero mismatches, and nothing left behind
        """)
    func endToEnd() async throws {
        let before = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter {
            $0.hasPrefix("walbridge-demo-")
        }
        let pgBin = ProcessInfo.processInfo.environment["WALBRIDGE_TEST_PGBIN"] ?? "/usr/lib/postgresql/15/bin"
        let demo = try CommandRun(
            ["demo", "--users", "20000"],
            environment: ["PATH": pgBin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "")])
        #expect(await demo.wait(timeout: .seconds(120)) == 0, "exit 0 within 2 minutes: \(demo.stdout)\(demo.stderr)")
        let out = demo.stdout
        for share in ["  1%", " 10%", " 50%", "100%"] {
            #expect(out.contains("\(share) of users read the new schema:"), "\(out)")
        }
        #expect(
            out.components(separatedBy: "mismatches: 0").count - 1 == 4 + (2 + 1) + (3 + 1),
            "every gray-read step, every table of both directions and the summaries report zero: \(out)")
        #expect(out.contains("paused at") && out.contains("resumed: caught up"))
        #expect(
            out.contains("Switched at") && out.contains("writes were unavailable for"), "the cut-over switched: \(out)")
        #expect(
            out.contains("Reverse replication runs") && out.contains("rollback's verify: 0 mismatches"),
            "the rollback went back: \(out)")
        #expect(out.contains("removed both clusters"))
        let after = try FileManager.default.contentsOfDirectory(atPath: NSTemporaryDirectory()).filter {
            $0.hasPrefix("walbridge-demo-")
        }
        #expect(Set(after).subtracting(before).isEmpty, "the demo removed its folder")
    }
}
