import Testing
@testable import Wire

/// The evaluation records of PROTOCOL.md 5.15: extension records of a version-1.0 frame.
@Suite struct EvaluationRecordTests {
    // MARK: - Golden vectors

    @Test func evaluateRecordOfTheGoldenReply() throws {
        let frame = try Frame.decode(try Vectors.bytes("action_reply_evaluate"))
        #expect(frame.minor == 0)
        #expect(try EvaluationAssignment.find(in: frame.extensions) == EvaluationAssignment(seeds: [0, 1]))
        #expect(try EvaluationAssignment(seeds: [0, 1]).record() == frame.extensions[0])
    }

    @Test func evaluationStartsOfTheGoldenRequest() throws {
        let frame = try Frame.decode(try Vectors.bytes("action_request_evaluation_starts"))
        let starts = try #require(try EvaluationStarts.find(in: frame.extensions))
        #expect(starts == EvaluationStarts(episodeIDs: [9], seeds: [0]))
        #expect(try starts.record() == frame.extensions[0])
    }

    // MARK: - Malformed values

    @Test func lengthsThatDisagreeWithTheCountAreMalformed() {
        for value: [UInt8] in [[], [1, 0], [2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0] + [UInt8](repeating: 0, count: 9)] {
            #expect(throws: WireError.self) {
                _ = try EvaluationAssignment.find(in: [WireExtension(tag: EvaluationRecords.evaluateTag, value: value)])
            }
        }
    }

    @Test func emptyOrNoSeedIsInvalid() {
        #expect(throws: WireError.self) { _ = try EvaluationAssignment(seeds: []).record() }
        #expect(throws: WireError.self) { _ = try EvaluationAssignment(seeds: [3, .max]).record() }
        #expect(throws: WireError.self) { _ = try EvaluationStarts(episodeIDs: [1, 1], seeds: [0, 1]).record() }
        #expect(throws: WireError.self) { _ = try EvaluationStarts(episodeIDs: [1], seeds: [0, 1]).record() }
    }

    @Test func otherTagsAreNotEvaluationRecords() throws {
        #expect(try EvaluationAssignment.find(in: [WireExtension(tag: 0x42, value: [1])]) == nil)
        #expect(try EvaluationStarts.find(in: []) == nil)
    }
}
