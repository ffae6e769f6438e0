import Testing
@testable import Wire

/// The extension records this codec understands travel as the message's own fields, and stay
/// optional: a frame without them is the 1.0 frame, and one with them decodes anywhere (PROTOCOL.md 8.1).
@Suite struct KnownExtensionTests {
    private func transitions(offsets: [UInt32]?) -> TransitionBatch {
        TransitionBatch(actorID: 3, runID: 9, seq: 4, policyVersion: 100, observationSize: 2, actionSize: 1,
                        episodeIDs: [1, 1, 1], stepIndices: [0, 1, 2], observations: [0, 1, 2, 3, 4, 5],
                        nextObservations: [1, 2, 3, 4, 5, 6], actions: [0.5, -0.5, 0], rewards: [1, 2, 3],
                        doneFlags: [0, 0, 1], actingVersionOffsets: offsets)
    }

    @Test func actingVersionsRoundTripAfterUnknownRecords() throws {
        let unknown = WireExtension(tag: 0x0777, value: [9, 8])
        let frame = Frame(.transitions(transitions(offsets: [0, 2, 7])), extensions: [unknown])
        let bytes = try frame.encode()
        // The tail is the unknown record, then tag 1 with three little-endian u32s.
        #expect(Array(bytes.suffix(18)) == [1, 0, 12, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 7, 0, 0, 0])
        let decoded = try Frame.decode(bytes)
        #expect(decoded == frame)
        guard case .transitions(let batch) = decoded.message else { Issue.record("not TRANSITIONS"); return }
        #expect((0 ..< 3).map(batch.actingVersion(ofRow:)) == [100, 102, 107])
        #expect(try decoded.encode() == bytes)
    }

    @Test func aBatchWithoutTheRecordIsTheVersion1Frame() throws {
        let bytes = try Frame(.transitions(transitions(offsets: nil))).encode()
        let decoded = try Frame.decode(bytes)
        guard case .transitions(let batch) = decoded.message else { Issue.record("not TRANSITIONS"); return }
        #expect(batch.actingVersionOffsets == nil)
        #expect((0 ..< 3).map(batch.actingVersion(ofRow:)) == [100, 100, 100])
    }

    @Test func actingVersionsOfTheWrongLengthOrTwiceAreMalformed() throws {
        let plain = Frame(.transitions(transitions(offsets: nil)))
        for records in [[WireExtension(tag: 1, value: [0, 0, 0, 0])],
                        [WireExtension(tag: 1, value: Array(repeating: 0, count: 12)),
                         WireExtension(tag: 1, value: Array(repeating: 0, count: 12))]] {
            var frame = plain
            frame.extensions = records
            let error = wireError { () throws(WireError) in try Frame.decode(try frame.encode()) }
            #expect(error?.code == .malformed)
            #expect(error?.field == "transitions.extensions.acting_versions")
        }
        // A sender never writes a record whose length disagrees with the rows.
        let wrong = Frame(.transitions(transitions(offsets: [1])))
        #expect(wireError { () throws(WireError) in try wrong.encode() } != nil)
    }

    @Test func welcomeCarriesTheWeightsLagRule() throws {
        let rule = WeightsLagRule(maxLagVersions: 20, maxAgeMs: 500)
        let welcome = Welcome(learnerRunID: 1, policyVersion: 2, warmupTransitions: 3, batchHint: 16, maxBatch: 512,
                              uploadIntervalMs: 100, weightsChunkBytes: 1 << 20, weightsRefreshSteps: 20,
                              heartbeatIntervalMs: 1000, maxFrameBytes: 1 << 24, envID: "Pendulum-v1",
                              preset: "pendulum", weightsLag: rule)
        let bytes = try Frame(.welcome(welcome)).encode()
        #expect(Array(bytes.suffix(14)) == [1, 0, 8, 0, 0, 0, 20, 0, 0, 0, 0xF4, 0x01, 0, 0])
        guard case .welcome(let decoded) = try Frame.decode(bytes).message else { Issue.record("not WELCOME"); return }
        #expect(decoded.weightsLag == rule)
        var bad = Frame(.welcome(welcome))
        bad.message = .welcome({ var w = welcome; w.weightsLag = nil; return w }())
        bad.extensions = [WireExtension(tag: 1, value: [1, 2, 3])]
        #expect(wireError { () throws(WireError) in try Frame.decode(try bad.encode()) }?.code == .malformed)
    }
}
