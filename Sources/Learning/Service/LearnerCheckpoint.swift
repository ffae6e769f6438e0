import Foundation
import Replay
import Simulators
import Telemetry
import MEow
import NN
import Tensor

/// The distributed learner's own part of a checkpoint manifest (`manifest.learner`).
///
/// Optional in the manifest: the single-process trainer leaves it out, and a reader
/// that finds it missing starts these counters at zero. The sequence windows of the
/// actors are not here: the run directory's write-ahead log keeps every batch the
/// learner acknowledged a duplicate across restarts.
public struct LearnerRecord: Sendable, Equatable, Codable {
    /// The effective configuration as a config file (`env`, `meow`, `run`, `learner`).
    public var effectiveConfig: String
    /// The ledger's counters: env steps, per-actor tallies, drops.
    public var ledger: LedgerCounters
    /// The env step at which the next evaluation runs; nil: evaluation is off.
    public var nextEvaluationStep: Int?

    public init(effectiveConfig: String, ledger: LedgerCounters, nextEvaluationStep: Int?) {
        self.effectiveConfig = effectiveConfig
        self.ledger = ledger
        self.nextEvaluationStep = nextEvaluationStep
    }
}

/// Everything a `Learner` carries that a checkpoint must keep, besides the agent's own
/// state and the replay buffer; the same in every mode.
struct LearnerState: Sendable, Equatable {
    /// Update calls, skipped ones included, over all sessions of the run.
    var updates = 0
    /// Updates (re)start once the env-step count passes this (docs/checkpoints.md): the
    /// warm-up of a fresh run, later after a resume that had to refill replay.
    var learningResumesAfterStep: Int
    /// Replay sampling and evaluation generators.
    var replaySampling: Xoshiro256
    var evaluation: Xoshiro256
    var evaluations: [EvaluationPoint] = []
    var best: BestRecord?
    /// The env step at which the next evaluation runs; nil: evaluation is off.
    var nextEvaluationStep: Int?

    /// A fresh run's state: nothing counted, the first evaluation at `eval-every`.
    init(replaySampling: Xoshiro256, evaluation: Xoshiro256, learningResumesAfterStep: Int, evalEvery: Int) {
        self.replaySampling = replaySampling
        self.evaluation = evaluation
        self.learningResumesAfterStep = learningResumesAfterStep
        nextEvaluationStep = evalEvery > 0 ? evalEvery : nil
    }

    init(updates: Int, learningResumesAfterStep: Int, replaySampling: Xoshiro256, evaluation: Xoshiro256,
         evaluations: [EvaluationPoint], best: BestRecord?, nextEvaluationStep: Int?) {
        self.updates = updates
        self.learningResumesAfterStep = learningResumesAfterStep
        self.replaySampling = replaySampling
        self.evaluation = evaluation
        self.evaluations = evaluations
        self.best = best
        self.nextEvaluationStep = nextEvaluationStep
    }
}

/// Turns a learner's state into a checkpoint manifest and back.
///
/// Pure functions over values, so the round trip and the resume rule are tested without
/// threads, sockets or an agent (Tests/LearningTests/Service/LearnerCheckpointTests.swift).
enum LearnerCheckpoint {
    /// The distributed learner's fresh state: generators split from the seed, nothing counted yet.
    ///
    /// The limiter lets the first update run once replay holds more than `minReplay`
    /// transitions (at `minReplay` its error sits exactly at the lower bound), so updates
    /// start once the step count exceeds `minReplay`; that is the stored value.
    static func fresh(config: MEowConfig, minReplay: Int) -> LearnerState {
        var root = Xoshiro256(seed: config.seed ^ 0x5EED_0F_4E_91A7)
        let replaySampling = root.split()
        let evaluation = root.split()
        return LearnerState(
            replaySampling: replaySampling, evaluation: evaluation, learningResumesAfterStep: minReplay,
            evalEvery: config.evalEvery)
    }

    /// The manifest of a checkpoint: the learner's state and its host's part.
    static func manifest(
        state: LearnerState, part: CheckpointPart, environment: String, model: String?, config: MEowConfig,
        run: RunSettings, agent: AgentRecord, metricsBytes: Int?
    ) -> CheckpointManifest {
        var streams = part.randomStreams.mapValues(\.state)
        streams[RandomStreamName.replay] = state.replaySampling.state
        streams[RandomStreamName.evaluation] = state.evaluation.state
        var manifest = CheckpointManifest(
            environment: environment, config: config, run: run, spaces: part.spaces,
            counters: CheckpointCounters(
                steps: part.steps, updates: state.updates, skippedUpdates: agent.skippedUpdates,
                episodes: part.episodes, policyVersion: agent.updateCount,
                learningResumesAfterStep: state.learningResumesAfterStep),
            randomStreams: streams, agent: agent, environmentState: part.environmentState, episode: part.episode,
            evaluations: state.evaluations, best: state.best, metricsBytes: metricsBytes)
        manifest.model = model
        manifest.learner = part.learner
        manifest.learner?.nextEvaluationStep = state.nextEvaluationStep
        return manifest
    }

    /// The learner state a checkpoint continues, with the resume rule applied.
    ///
    /// `replayRestored` says whether the checkpoint's replay snapshot was loaded. Without
    /// one replay starts empty, and the learner refills `minReplay` transitions before
    /// updating again (`refillRule`). A manifest without the distributed learner's record
    /// (the single-process trainer's) evaluates next at the multiple of eval-every after it.
    static func state(
        from manifest: CheckpointManifest, replayRestored: Bool, minReplay: Int
    ) throws(CheckpointError) -> LearnerState {
        let counters = manifest.counters
        guard counters.steps >= 0, counters.updates >= 0 else {
            throw .invalidManifest(reason: "negative counters (steps \(counters.steps), updates \(counters.updates))")
        }
        let evalEvery = manifest.config.evalEvery
        let nextEvaluation = manifest.learner.map(\.nextEvaluationStep)
            ?? (evalEvery > 0 ? (counters.steps / evalEvery + 1) * evalEvery : nil)
        return LearnerState(
            updates: counters.updates,
            learningResumesAfterStep: refillRule(
                steps: counters.steps, stored: counters.learningResumesAfterStep, minReplay: minReplay,
                replayRestored: replayRestored),
            replaySampling: try manifest.randomStream(RandomStreamName.replay),
            evaluation: try manifest.randomStream(RandomStreamName.evaluation),
            evaluations: manifest.evaluations, best: manifest.best, nextEvaluationStep: nextEvaluation)
    }

    /// The distributed learner's ledger counters in a checkpoint; a manifest without them
    /// (the single-process trainer's) starts the tallies at zero.
    static func ledger(from manifest: CheckpointManifest) throws(CheckpointError) -> LedgerCounters {
        let steps = manifest.counters.steps
        let ledger = manifest.learner?.ledger
            ?? LedgerCounters(envSteps: steps, actors: [:], duplicates: 0, tryLater: 0, staleDropped: 0)
        guard ledger.envSteps == steps else {
            throw .invalidManifest(
                reason: "learner.ledger.envSteps (\(ledger.envSteps)) differs from counters.steps (\(steps))")
        }
        return ledger
    }

    /// When updates may run again after a resume at `steps` env steps: the one refill rule.
    ///
    /// With the replay snapshot the stored value stands (a refill in progress continues).
    /// Without it, replay starts empty and refills with the same warm-up that starts a
    /// fresh run: `steps + minReplay` (learning-starts for `meow train`, the limiter's
    /// max(learning-starts, batch-size) for the learner, which rebuilds its limiter empty).
    /// The skipped updates are never made up.
    static func refillRule(steps: Int, stored: Int, minReplay: Int, replayRestored: Bool) -> Int {
        replayRestored || steps == 0 ? stored : max(stored, steps + minReplay)
    }
}
