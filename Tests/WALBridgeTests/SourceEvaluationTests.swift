import Testing
@testable import WALBridge

@Suite("SourceEvaluation")
struct SourceEvaluationTests {
    @Test("string literals are found with doubled quotes, so that 'now' and ' Today ' are seen as moments")
    func literals() {
        #expect(SourceEvaluation.stringLiterals(in: "coalesce(placed, 'now')::date") == ["now"])
        #expect(SourceEvaluation.stringLiterals(in: "note || 'it''s' || ' Today '") == ["it's", " Today "])
        #expect(SourceEvaluation.stringLiterals(in: "upper(known)").isEmpty)
    }
}
