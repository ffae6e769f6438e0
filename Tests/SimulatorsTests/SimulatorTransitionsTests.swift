import Replay
import Simulators
import Testing
import Wire

/// Simulator transitions as TRANSITIONS batches: what the learner's write-ahead log and ingest
/// path, and a gateway's upload, receive.
struct SimulatorTransitionsTests {
    // MARK: - Episode ids, step indices, done flags

    @Test func transitionsKeepTheirEpisodeIdsStepIndicesAndTruncation() throws {
        var harness = Harness()
        try harness.exchange([.start(41, [0, 1]), .start(42, [5, 6])])
        try harness.exchange([.step(41, [1, 2], reward: 1), .step(42, [6, 7], reward: 2)])
        let (ended, _) = try harness.exchange([
            .end(41, [2, 3], reward: 3, flags: .truncated), .end(42, [7, 8], reward: 4, flags: .terminated),
        ])
        let built = Wire.TransitionBatch(simulator: ended, actorID: 3, runID: 9, seq: 0, policyVersion: 7)
        // Through the codec, as the write-ahead log and a gateway's upload carry it.
        let decoded = try Frame.decode(try Frame(.transitions(built)).encode(limits: WireLimits())).message
        guard case .transitions(let batch) = decoded else {
            Issue.record("expected TRANSITIONS, got \(decoded)")
            return
        }
        #expect(batch.episodeIDs == [41, 42])
        // Each episode's second transition: index 1 within its episode.
        #expect(batch.stepIndices == [1, 1])
        #expect(batch.doneFlags == [DoneFlags.truncated.rawValue, DoneFlags.terminated.rawValue])
        // Replay's column still terminates on TERMINATED only: truncation bootstraps.
        #expect(ended.transitions.terminations == [0, 1])
    }

    @Test func stepRowsCarryNoDoneFlagsAndCountStepsWithinTheirEpisode() throws {
        var harness = Harness()
        try harness.exchange([.start(5, [0, 0])])
        var indices: [UInt32] = []
        for step in 1 ... 3 {
            let (prepared, _) = try harness.exchange([.step(5, [Float(step), 0], reward: 1)])
            let batch = Wire.TransitionBatch(simulator: prepared, actorID: 0, runID: 1, seq: 0, policyVersion: 0)
            #expect(batch.episodeIDs == [5] && batch.doneFlags == [0])
            indices += batch.stepIndices
        }
        #expect(indices == [0, 1, 2])
    }
}
