import Foundation
import MEow
import Replay
import Simulators
import Tensor
import Testing
import Wire

@testable import Learning

@Suite struct LearnerCheckpointTests {
    /// A learner state in the middle of a run, with every field set to something a fresh run would not have.
    static func midRunState() -> LearnerState {
        var state = LearnerCheckpoint.fresh(config: MEowConfig(), minReplay: 256)
        for _ in 0 ..< 7 { _ = state.replaySampling.next() }
        for _ in 0 ..< 3 { _ = state.evaluation.next() }
        state.updates = 1234
        state.evaluations = [EvaluationPoint(step: 1000, meanReturn: -812.5), EvaluationPoint(step: 2000, meanReturn: -301.25)]
        state.best = BestRecord(step: 2000, testReturn: -301.25)
        state.nextEvaluationStep = 3000
        return state
    }

    /// The ledger of the same moment.
    static func midRunLedger() -> LedgerCounters {
        var tally = ActorTally()
        (tally.transitions, tally.batches, tally.duplicates, tally.episodes) = (2048, 64, 2, 10)
        (tally.lastReturn, tally.lastBatchVersion, tally.runs) = (-150.5, 1200, 2)
        return LedgerCounters(envSteps: 2500, actors: ["0": tally, "3": ActorTally()], duplicates: 2,
                              tryLater: 5, staleDropped: 1)
    }

    static let spaces = AgreedSpaces(observation: Space(shape: [3], low: [-1, -1, -8], high: [1, 1, 8]),
                                     action: Space(shape: [1], low: -2, high: 2))

    /// The manifest the learner service writes (`TrainingLoop`'s `checkpointPart`).
    static func manifest(_ state: LearnerState, ledger: LedgerCounters = midRunLedger()) -> CheckpointManifest {
        let part = CheckpointPart(
            steps: ledger.envSteps, episodes: ledger.actors.values.reduce(0) { $0 + $1.episodes },
            spaces: SpacesRecord(observationDimension: 3, actionDimension: 1, observationSpace: "\(spaces.observation)",
                                 actionSpace: "\(spaces.action)", spaces: spaces.record),
            learner: LearnerRecord(effectiveConfig: "{}\n", ledger: ledger, nextEvaluationStep: nil))
        return LearnerCheckpoint.manifest(
            state: state, part: part, environment: "pendulum", model: nil, config: MEowConfig(), run: RunSettings(),
            agent: AgentRecord(updateCount: 1230, skippedUpdates: 4, optimizerStep: 1230, randomStreams: [:]),
            metricsBytes: 512)
    }

    // MARK: - Manifest round trip

    @Test func theManifestCarriesTheLearnerStateThroughJSON() throws {
        let state = Self.midRunState()
        let manifest = Self.manifest(state)
        #expect(manifest.counters.steps == 2500 && manifest.counters.updates == 1234)
        #expect(manifest.counters.policyVersion == 1230 && manifest.counters.episodes == 10)
        let decoded = try JSONDecoder().decode(CheckpointManifest.self, from: try RunDirectory.encodeJSON(manifest))
        #expect(decoded == manifest)
        let restored = try LearnerCheckpoint.state(from: decoded, replayRestored: true, minReplay: 256)
        #expect(restored == state)
        #expect(try LearnerCheckpoint.ledger(from: decoded) == Self.midRunLedger())
        #expect(decoded.learner?.nextEvaluationStep == 3000)
    }

    @Test func aManifestWithoutTheLearnerRecordStillResumes() throws {
        let manifest = Self.manifest(Self.midRunState())
        var object = try #require(
            try JSONSerialization.jsonObject(with: try RunDirectory.encodeJSON(manifest)) as? [String: Any])
        object["learner"] = nil
        let data = try JSONSerialization.data(withJSONObject: object)
        let decoded = try JSONDecoder().decode(CheckpointManifest.self, from: data)
        #expect(decoded.learner == nil)
        let restored = try LearnerCheckpoint.state(from: decoded, replayRestored: true, minReplay: 256)
        let ledger = try LearnerCheckpoint.ledger(from: decoded)
        #expect(ledger.envSteps == 2500 && ledger.actors.isEmpty)
        // Evaluation continues at the next multiple of eval-every after the checkpoint.
        #expect(restored.nextEvaluationStep == (2500 / MEowConfig().evalEvery + 1) * MEowConfig().evalEvery)
    }

    @Test func inconsistentCountersAreRefused() throws {
        var manifest = Self.manifest(Self.midRunState())
        manifest.counters.steps = 99
        #expect(throws: CheckpointError.self) {
            try LearnerCheckpoint.ledger(from: manifest)
        }
        manifest = Self.manifest(Self.midRunState())
        manifest.counters.updates = -1
        #expect(throws: CheckpointError.self) {
            try LearnerCheckpoint.state(from: manifest, replayRestored: true, minReplay: 256)
        }
        manifest = Self.manifest(Self.midRunState())
        manifest.randomStreams[RandomStreamName.replay] = nil
        #expect(throws: CheckpointError.invalidManifest(
            reason: "random stream 'replay' is missing or not four words, not all zero")) {
            try LearnerCheckpoint.state(from: manifest, replayRestored: true, minReplay: 256)
        }
    }

    @Test func theStoreSavesAndLoadsALearnerCheckpointWithReplay() throws {
        let directory = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var replay = try ReplayBuffer(capacity: 64, observationDimension: 3, actionDimension: 1)
        var rng = Xoshiro256(seed: 5)
        for _ in 0 ..< 40 {
            try replay.insert(observation: (0 ..< 3).map { _ in rng.nextUniform(Float.self) }, action: [0.5],
                              reward: -1, terminated: false, nextObservation: [0, 0, 0])
        }
        let state = Self.midRunState()
        let agent = AgentCheckpoint(files: ["online.safetensors": [1, 2, 3, 4]],
                                    record: AgentRecord(updateCount: 1230, skippedUpdates: 4, optimizerStep: 1230,
                                                        randomStreams: ["dropout": [1, 2, 3, 4]]))
        let store = CheckpointStore(runDirectory: directory, keep: 2)
        try store.save(manifest: Self.manifest(state), agent: agent, replay: replay, best: true)

        let loaded = try CheckpointStore.load(directory)
        #expect(loaded.agent == agent)
        #expect(loaded.manifest.learner?.ledger == Self.midRunLedger())
        let restoredReplay = try #require(try loaded.restoreReplay())
        #expect(restoredReplay.count == 40)
        #expect(try LearnerCheckpoint.state(from: loaded.manifest, replayRestored: true, minReplay: 256) == state)
        #expect(store.pointer(CheckpointStore.bestPointer) == "step-000002500")
    }

    // MARK: - The resume rule

    @Test func withoutReplayUpdatesWaitForAFullWarmupAfterTheCheckpoint() {
        #expect(LearnerCheckpoint.refillRule(steps: 5000, stored: 256, minReplay: 256, replayRestored: false) == 5256)
        // A refill already in progress is not shortened.
        #expect(LearnerCheckpoint.refillRule(steps: 5000, stored: 5100, minReplay: 50, replayRestored: false) == 5100)
        #expect(LearnerCheckpoint.refillRule(steps: 5000, stored: 256, minReplay: 256, replayRestored: true) == 256)
        #expect(LearnerCheckpoint.refillRule(steps: 0, stored: 256, minReplay: 256, replayRestored: false) == 256)
    }

    /// The learner's limiter (`LearnerConfiguration.makeRateLimiter`): 4 samples per insert, 8
    /// transitions of warm-up, sampling never ahead of the ratio; batches of 4.
    static let learnerLimiter = RateLimiter(samplesPerInsert: 4, minSizeToSample: 8, minDiff: 32, maxDiff: 32 + 40)

    @Test func aResumedLedgerWithoutReplayRefillsBeforeSampling() throws {
        let ledger = LedgerBox(try makeLedger(limiter: Self.learnerLimiter))
        ledger.restore(LedgerCounters(envSteps: 500, actors: ["1": ActorTally()], duplicates: 3, tryLater: 0,
                                      staleDropped: 0))
        #expect(ledger.acceptedTransitions == 500 && ledger.duplicateReplies == 3)
        #expect(ledger.counters.envSteps == 500)
        let resumesAfter = LearnerCheckpoint.refillRule(steps: 500, stored: 8, minReplay: 8, replayRestored: false)
        _ = ledger.hello(hello(), now: .now)
        var sampled = 0
        for seq in 0 ..< 10 {
            #expect(ledger.transitions(batch(seq: UInt64(seq), count: 1), now: .now).reply.ackStatus == .accepted)
            _ = ledger.drain()
            ledger.recordInserted(1, overwritten: 0, replaySize: seq + 1)
            while ledger.reserveSample() { sampled += 1 }
            // No update until the step count exceeds the stored rule, then one per transition.
            let steps = ledger.counters.envSteps
            #expect(sampled == max(0, steps - resumesAfter), "at step \(steps)")
        }
        #expect(ledger.counters.envSteps == 510 && sampled == 2)
    }

    @Test func aRestoredSnapshotContinuesAtTheRatioWithoutABurst() throws {
        let ledger = LedgerBox(try makeLedger(limiter: Self.learnerLimiter))
        ledger.restoreReplay(count: 100)
        #expect(ledger.replaySize == 100)
        // Where a fresh run stands the moment warm-up ends: no update until new data arrives...
        #expect(!ledger.reserveSample())
        _ = ledger.hello(hello(), now: .now)
        for seq in 0 ..< 3 {
            #expect(ledger.transitions(batch(seq: UInt64(seq), count: 1), now: .now).reply.ackStatus == .accepted)
            _ = ledger.drain()
            ledger.recordInserted(1, overwritten: 0, replaySize: 101 + seq)
            // ...then one batch of 4 per inserted transition (4 samples per insert).
            #expect(ledger.reserveSample())
            #expect(!ledger.reserveSample())
        }
    }
}
