import Testing
@testable import WALBridge

@Suite("BridgeStatus")
struct BridgeStatusTests {
    static func record(_ phase: SwitchPhase) -> SwitchRecord {
        SwitchRecord(phase: phase, step: "s", fence: "trigger", reverse: true, updatedAt: "now")
    }

    @Test("unfinished names the command for a step under way, and for a fence on the side the application writes")
    func unfinished() {
        #expect(
            BridgeStatus.unfinished(Self.record(.cuttingOver), legacyFenced: true, newFenced: false)?.contains(
                "cutover again") == true)
        #expect(
            BridgeStatus.unfinished(Self.record(.rollingBack), legacyFenced: true, newFenced: true)?.contains(
                "rollback again") == true)
        #expect(
            BridgeStatus.unfinished(Self.record(.switched), legacyFenced: true, newFenced: false) == nil,
            "switched: the legacy tables stay fenced")
        #expect(
            BridgeStatus.unfinished(Self.record(.switched), legacyFenced: true, newFenced: true)?.contains(
                "cutover again to lift") == true)
        #expect(
            BridgeStatus.unfinished(Self.record(.rolledBack), legacyFenced: false, newFenced: true) == nil,
            "rolled back: the new tables stay fenced")
        #expect(
            BridgeStatus.unfinished(Self.record(.aborted), legacyFenced: true, newFenced: false)?.contains(
                "cutover --abort again") == true)
        #expect(BridgeStatus.unfinished(nil, legacyFenced: true, newFenced: false)?.contains("unfence.sql") == true)
        #expect(BridgeStatus.unfinished(nil, legacyFenced: false, newFenced: false) == nil)
    }
}
