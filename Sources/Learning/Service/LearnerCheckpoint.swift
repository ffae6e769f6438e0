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

/// Everything the learner's training thread carries that a checkpoint must keep,
/// besides the agent's own state and the replay buffer.
struct LearnerTrainingState: Sendable, Equatable {
    /// Update calls, skipped ones included, over all sessions of the run.
    var updates = 0
    /// Updates (re)start once the env-step count exceeds this (docs/checkpoints.md).
    var learningResumesAfterStep: Int
    /// Replay sampling and evaluation generators.
    var replaySampling: Xoshiro256
    var evaluation: Xoshiro256
    var evaluations: [EvaluationPoint] = []
    var best: BestRecord?
    var nextEvaluationStep: Int?
    /// The ledger's counters as of the last checkpoint (or zero for a fresh run).
    var ledger = LedgerCounters(envSteps: 0, actors: [:], duplicates: 0, tryLater: 0, staleDropped: 0)
}

/// Turns the learner's state into a checkpoint manifest and back.
///
/// Pure functions over values, so the round trip and the resume rule are tested without
/// threads, sockets or an agent (Tests/LearningTests/Service/LearnerCheckpointTests.swift).
enum LearnerCheckpoint {
    /// The state of a fresh run: generators split from the seed, nothing counted yet.
    ///
    /// The limiter lets the first update run once replay holds more than `minReplay`
    /// transitions (at `minReplay` its error sits exactly at the lower bound), so updates
    /// start once the step count exceeds `minReplay`; that is the stored value.
    static func fresh(config: MEowConfig, minReplay: Int) -> LearnerTrainingState {
        var root = Xoshiro256(seed: config.seed ^ 0x5EED_0F_4E_91A7)
        let replaySampling = root.split()
        let evaluation = root.split()
        return LearnerTrainingState(
            learningResumesAfterStep: minReplay, replaySampling: replaySampling, evaluation: evaluation,
            nextEvaluationStep: config.evalEvery > 0 ? config.evalEvery : nil)
    }

    /// The manifest of a learner checkpoint at `state.ledger.envSteps` env steps.
    static func manifest(
        state: LearnerTrainingState, environment: String, config: MEowConfig, run: RunSettings, spaces: AgreedSpaces,
        agent: AgentRecord, policyVersion: UInt64, effectiveConfig: String, metricsBytes: Int?
    ) -> CheckpointManifest {
        var manifest = CheckpointManifest(
            environment: environment, config: config, run: run,
            spaces: SpacesRecord(
                observationDimension: spaces.observationSize, actionDimension: spaces.actionSize,
                observationSpace: "\(spaces.observation)", actionSpace: "\(spaces.action)", spaces: spaces.record),
            counters: CheckpointCounters(
                steps: state.ledger.envSteps, updates: state.updates, skippedUpdates: agent.skippedUpdates,
                episodes: state.ledger.actors.values.reduce(0) { $0 + $1.episodes },
                policyVersion: Int(policyVersion), learningResumesAfterStep: state.learningResumesAfterStep),
            randomStreams: [
                RandomStreamName.replay: state.replaySampling.state,
                RandomStreamName.evaluation: state.evaluation.state,
            ],
            agent: agent, evaluations: state.evaluations, best: state.best, metricsBytes: metricsBytes)
        manifest.learner = LearnerRecord(
            effectiveConfig: effectiveConfig, ledger: state.ledger, nextEvaluationStep: state.nextEvaluationStep)
        return manifest
    }

    /// The training state a checkpoint continues, with the resume rule applied.
    ///
    /// `replayRestored` says whether the checkpoint's replay snapshot was loaded. Without
    /// one replay starts empty, and the learner refills `minReplay` transitions before
    /// updating again (`refillRule`).
    static func state(
        from manifest: CheckpointManifest, replayRestored: Bool, minReplay: Int
    ) throws(CheckpointError) -> LearnerTrainingState {
        let counters = manifest.counters
        guard counters.steps >= 0, counters.updates >= 0 else {
            throw .invalidManifest(reason: "negative counters (steps \(counters.steps), updates \(counters.updates))")
        }
        var ledger = manifest.learner?.ledger
            ?? LedgerCounters(envSteps: counters.steps, actors: [:], duplicates: 0, tryLater: 0, staleDropped: 0)
        guard ledger.envSteps == counters.steps else {
            throw .invalidManifest(
                reason: "learner.ledger.envSteps (\(ledger.envSteps)) differs from counters.steps (\(counters.steps))")
        }
        ledger.envSteps = counters.steps
        let nextEvaluation = manifest.learner.map(\.nextEvaluationStep)
            ?? (manifest.config.evalEvery > 0 ? (counters.steps / manifest.config.evalEvery + 1) * manifest.config.evalEvery : nil)
        return LearnerTrainingState(
            updates: counters.updates,
            learningResumesAfterStep: refillRule(
                steps: counters.steps, stored: counters.learningResumesAfterStep, minReplay: minReplay,
                replayRestored: replayRestored),
            replaySampling: try manifest.randomStream(RandomStreamName.replay),
            evaluation: try manifest.randomStream(RandomStreamName.evaluation),
            evaluations: manifest.evaluations, best: manifest.best, nextEvaluationStep: nextEvaluation, ledger: ledger)
    }

    /// When updates may run again after a resume at `steps` env steps.
    ///
    /// With the replay snapshot the stored value stands (a refill in progress continues).
    /// Without it, replay starts empty and refills with the same warm-up that starts a
    /// fresh run: updates run once the step count exceeds `steps + minReplay`. This is
    /// LocalTrainer's rule with the learner's warm-up (max(learning-starts, batch-size));
    /// the rate limiter, rebuilt empty, enforces it, and the skipped updates are never made up.
    static func refillRule(steps: Int, stored: Int, minReplay: Int, replayRestored: Bool) -> Int {
        replayRestored || steps == 0 ? stored : max(stored, steps + minReplay)
    }
}

/// Writes the learner's checkpoints through `CheckpointStore`, as the single-process trainer does.
///
/// Runs on the training thread, which owns the agent and replay, so the weights, the
/// generators and the replay snapshot are one consistent moment.
struct Checkpointing {
    let store: CheckpointStore
    let configuration: LearnerConfiguration
    let spaces: AgreedSpaces
    let metrics: FanOutLogger
    let log: @Sendable (String) -> Void

    /// Writes a checkpoint (a replay snapshot too when `checkpoint-replay` is on); `best` also points `best` at it.
    func save(state: LearnerTrainingState, agent: any DistributedAgent, replay: ReplayBuffer, best: Bool)
        throws(LearnerError) -> URL {
        let metricsPath = configuration.runDirectory + "/" + RunFiles.metrics
        // Rows logged so far must be on disk so the manifest can record where the file ends.
        do {
            try metrics.flush()
        } catch {
            throw .io(path: metricsPath, reason: fileErrorReason(error))
        }
        let metricsSize = (try? FileManager.default.attributesOfItem(atPath: metricsPath))?[.size] as? NSNumber
        let agentCheckpoint = agent.checkpoint()
        var manifest = LearnerCheckpoint.manifest(
            state: state, environment: configuration.environment, config: configuration.agent,
            run: configuration.effectiveRun, spaces: spaces, agent: agentCheckpoint.record,
            policyVersion: UInt64(agent.updateCount), effectiveConfig: configuration.rendered,
            metricsBytes: metricsSize?.intValue)
        manifest.model = configuration.modelPath
        do {
            let url = try store.save(
                manifest: manifest, agent: agentCheckpoint, replay: configuration.run.checkpointReplay ? replay : nil,
                maxChunkBytes: configuration.run.replayChunkMiB << 20, best: best)
            log("learner: checkpoint \(url.path) at \(state.ledger.envSteps) env steps, policy version "
                + "\(agent.updateCount)" + (best ? String(format: " (new best Test/return %.2f)", state.best?.testReturn ?? 0) : ""))
            return url
        } catch {
            throw .checkpoint(error)
        }
    }
}
