import Environments
import Foundation
import MEow
import Replay
import Telemetry
import Tensor

/// The learning side of every mode (Acme's `Learner`): it owns the agent, replay and the
/// state a checkpoint keeps, and `step()` does sample → update → publish the weights →
/// evaluate and record the best → checkpoint.
///
/// `meow train` (`LocalTrainer`) and the distributed learner's training thread
/// (`TrainingLoop`) drive the same `step()`; they differ only in where transitions come
/// from and where weights go, which they say through a `LearnerHost`. There is one
/// checkpoint writer (`checkpoint(best:host:)`) and one resume rule
/// (`LearnerCheckpoint.state(from:replayRestored:minReplay:)`). A learner runs on one
/// thread, which owns it outright.
final class Learner {
    /// Where evaluation episodes run.
    enum Evaluation {
        /// In an environment of the learner's own (deterministic seeds 0 ..< eval-episodes).
        case environment(any Environment)
        /// Elsewhere (simulators, PROTOCOL.md §5.15): the host opens a round; results come back
        /// through `record(evaluationAt:meanReturn:host:)`.
        case external
        /// Nowhere: evaluation is off.
        case off
    }

    /// What a step did that its driver acts on.
    struct StepReport {
        /// An external evaluation round was opened: training holds until it completes.
        var evaluationOpened = false
    }

    /// Why a checkpoint could not be written: the metrics file could not be flushed, or the store failed.
    enum CheckpointFailure: Error {
        case metrics(path: String, reason: String)
        case store(CheckpointError)
    }

    /// What every checkpoint and metric row says about the run besides the learner's state.
    struct RunDescription {
        var environment: String
        var model: String?
        var config: MEowConfig
        var run: RunSettings
        /// The checkpoint's run directory (metrics.csv, checkpoints/).
        var directory: URL
        /// Loss-type scalars are logged every this many updates.
        var lossLogInterval: Int
    }

    let agent: any TrainableAgent
    private(set) var replay: ReplayBuffer
    private(set) var state: LearnerState
    let run: RunDescription
    private let evaluation: Evaluation
    private let metrics: FanOutLogger
    private let store: CheckpointStore
    private var batch: TransitionBatch
    /// The env step at which the next periodic checkpoint is due; nil: checkpoint-every is 0.
    private var nextCheckpointStep: Int?
    /// What the newest checkpoint holds (env steps, updates); nil before the first one.
    private(set) var lastCheckpoint: (steps: Int, updates: Int)?
    /// The newest checkpoint's directory (the resumed one until this session writes its own).
    private(set) var lastCheckpointDirectory: URL?
    /// The loss of the last update, for the progress line and the stats file.
    private(set) var lastLoss: Float?
    /// The session's start and its env-step count then, for `charts/SPS`.
    let sessionStart: (at: ContinuousClock.Instant, steps: Int)

    /// A learner at `envSteps` env steps; `resumed` names the checkpoint it continues, if any.
    init(
        agent: any TrainableAgent, replay: ReplayBuffer, state: LearnerState, run: RunDescription,
        evaluation: Evaluation, metrics: FanOutLogger, envSteps: Int, resumed: URL?
    ) {
        self.agent = agent
        self.replay = replay
        self.state = state
        self.run = run
        self.evaluation = evaluation
        self.metrics = metrics
        if case .off = evaluation { self.state.nextEvaluationStep = nil }
        store = CheckpointStore(runDirectory: run.directory, keep: run.run.keepCheckpoints)
        batch = TransitionBatch(
            count: run.config.batchSize, observationDimension: replay.observationDimension,
            actionDimension: replay.actionDimension)
        let every = run.run.checkpointEvery
        nextCheckpointStep = every > 0 ? (envSteps / every + 1) * every : nil
        if let resumed {
            lastCheckpoint = (envSteps, state.updates)
            lastCheckpointDirectory = resumed
        }
        sessionStart = (ContinuousClock.now, envSteps)
    }

    // MARK: - Data in

    /// Stores one transition (an adder's output, docs/algorithm.md §7.13).
    func insert(
        observation: [Float], action: [Float], reward: Float, terminated: Bool, nextObservation: [Float]
    ) throws(ReplayError) {
        try replay.insert(
            observation: observation, action: action, reward: reward, terminated: terminated,
            nextObservation: nextObservation)
    }

    /// Stores a batch of transitions; returns how many older ones it overwrote.
    func insert(contentsOf columns: TransitionBatch) throws(ReplayError) -> Int {
        try replay.insert(contentsOf: columns)
    }

    // MARK: - The step

    /// One step at `envSteps` env steps: `updates` times sample → update → publish, then an
    /// evaluation when one is due (a new best is recorded), then a checkpoint when one is due
    /// or the evaluation found a new best.
    ///
    /// The driver decides how many updates the data allows (the single-process warm-up, the
    /// distributed rate limiter); `updates` may be 0, so evaluation and checkpoints keep their
    /// schedule before learning starts.
    @discardableResult
    func step(envSteps: Int, updates: Int, host: any LearnerHost) throws(CheckpointFailure) -> StepReport {
        var report = StepReport()
        let clock = ContinuousClock()
        for _ in 0..<updates {
            // 1. Sample a uniform replay batch (docs/algorithm.md §5.1).
            replay.sample(into: &batch, using: &state.replaySampling)
            // 2. Update (docs/algorithm.md §4.8).
            let started = clock.now
            let statistics = agent.update(batch: batch)
            let duration = clock.now - started
            state.updates += 1
            lastLoss = statistics.loss
            if state.updates % run.lossLogInterval == 0 {
                metrics.logUpdate(
                    statistics, alpha: run.config.alpha, skippedUpdates: agent.skippedUpdates, step: envSteps)
                metrics.log(
                    tag: MetricName.stepsPerSecond, value: stepsPerSecond(envSteps, at: clock.now).rounded(),
                    step: envSteps)
            }
            // 3. Publish the weights (the host knows who reads them).
            host.learnerDidUpdate(statistics, duration: duration)
        }

        // 4. Evaluate every eval-every env steps.
        var newBest = false
        if let due = state.nextEvaluationStep, envSteps >= due {
            state.nextEvaluationStep = (envSteps / run.config.evalEvery + 1) * run.config.evalEvery
            switch evaluation {
            case let .environment(environment):
                newBest = evaluate(in: environment, at: envSteps, host: host)
            case .external:
                report.evaluationOpened = host.learnerOpensEvaluation(at: envSteps)
            case .off:
                break
            }
        }

        // 5. Checkpoint every checkpoint-every env steps, and whenever the evaluation found a new best.
        var due = false
        if let next = nextCheckpointStep, envSteps >= next {
            due = true
            nextCheckpointStep = (envSteps / run.run.checkpointEvery + 1) * run.run.checkpointEvery
        }
        if due || newBest { try checkpoint(best: newBest, host: host) }
        return report
    }

    /// Records an evaluation that ran elsewhere, and checkpoints a new best at once.
    func record(evaluationAt step: Int, meanReturn: Double, host: any LearnerHost) throws(CheckpointFailure) {
        if record(step: step, meanReturn: meanReturn, host: host) { try checkpoint(best: true, host: host) }
    }

    /// The end of a session at `envSteps`: a last evaluation when `evaluate` and the last step had
    /// none, then a checkpoint unless the newest one already holds this state.
    func finish(envSteps: Int, evaluate: Bool, host: any LearnerHost) throws(CheckpointFailure) {
        var best = false
        if evaluate, case let .environment(environment) = evaluation, run.config.evalEvery > 0,
           state.evaluations.last?.step != envSteps {
            best = self.evaluate(in: environment, at: envSteps, host: host)
        }
        if best || lastCheckpoint.map({ $0 != (envSteps, state.updates) }) ?? true {
            try checkpoint(best: best, host: host)
        }
    }

    /// Environment steps per second of this session.
    func stepsPerSecond(_ envSteps: Int, at now: ContinuousClock.Instant) -> Double {
        let seconds = (now - sessionStart.at).seconds
        return seconds > 0 ? Double(envSteps - sessionStart.steps) / seconds : 0
    }

    // MARK: - Evaluation

    /// Deterministic (by default) evaluation over seeds 0 ..< evalEpisodes; returns whether it is the best so far.
    private func evaluate(in environment: any Environment, at step: Int, host: any LearnerHost) -> Bool {
        let result = PolicyEvaluation.evaluate(
            agent: agent, environment: environment, episodes: run.config.evalEpisodes,
            deterministic: run.config.deterministicEval, rng: &state.evaluation)
        return record(step: step, meanReturn: result.meanReturn, host: host)
    }

    /// Logs `Test/return`, keeps the evaluation and the best; returns whether it is a new best.
    private func record(step: Int, meanReturn: Double, host: any LearnerHost) -> Bool {
        metrics.log(tag: MetricName.testReturn, value: meanReturn, step: step)
        state.evaluations.append(EvaluationPoint(step: step, meanReturn: meanReturn))
        host.learnerDidEvaluate(step: step, meanReturn: meanReturn)
        guard meanReturn > (state.best?.testReturn ?? -.infinity) else { return false }
        state.best = BestRecord(step: step, testReturn: meanReturn)
        return true
    }

    // MARK: - The one checkpoint writer

    /// Writes a checkpoint of the learner and its host (a replay snapshot too when
    /// `checkpoint-replay` is on); `best` also points `best` at it.
    ///
    /// Runs on the learner's thread, so the weights, the generators and the replay snapshot
    /// are one consistent moment.
    @discardableResult
    func checkpoint(best: Bool, host: any LearnerHost) throws(CheckpointFailure) -> URL {
        host.learnerWillCheckpoint()
        let metricsPath = run.directory.appendingPathComponent(RunFiles.metrics).path
        // Rows logged so far must be on disk so the manifest can record where the file ends.
        do {
            try metrics.flush()
        } catch {
            throw .metrics(path: metricsPath, reason: "\(error)")
        }
        let metricsSize = (try? FileManager.default.attributesOfItem(atPath: metricsPath))?[.size] as? NSNumber
        let part = host.checkpointPart()
        let agentCheckpoint = agent.checkpoint()
        let manifest = LearnerCheckpoint.manifest(
            state: state, part: part, environment: run.environment, model: run.model, config: run.config,
            run: run.run, agent: agentCheckpoint.record, metricsBytes: metricsSize?.intValue)
        let url: URL
        do {
            url = try store.save(
                manifest: manifest, agent: agentCheckpoint, replay: run.run.checkpointReplay ? replay : nil,
                maxChunkBytes: run.run.replayChunkMiB << 20, best: best)
        } catch {
            throw .store(error)
        }
        lastCheckpoint = (part.steps, state.updates)
        lastCheckpointDirectory = url
        host.learnerDidCheckpoint(at: url, steps: part.steps, best: best)
        return url
    }
}

/// The mode around a `Learner`: where its transitions come from and where its weights go.
///
/// `meow train` steps one environment in the learner's thread; the distributed learner
/// takes batches from actors and publishes weights to them.
protocol LearnerHost: AnyObject {
    /// After every update: publish the weights, share counters. `duration` is the update's wall time.
    func learnerDidUpdate(_ statistics: UpdateMetrics, duration: Duration)
    /// After every evaluation, wherever it ran.
    func learnerDidEvaluate(step: Int, meanReturn: Double)
    /// An evaluation is due and runs elsewhere: opens a round; true when training holds until it completes.
    func learnerOpensEvaluation(at step: Int) -> Bool
    /// Right before a checkpoint, so its metrics rows hold what the host still has to log.
    func learnerWillCheckpoint()
    /// What the host adds to the checkpoint: the data source's counters, generators and state.
    func checkpointPart() -> CheckpointPart
    /// After a checkpoint was written.
    func learnerDidCheckpoint(at url: URL, steps: Int, best: Bool)
}

extension LearnerHost {
    func learnerDidUpdate(_ statistics: UpdateMetrics, duration: Duration) {}
    func learnerDidEvaluate(step: Int, meanReturn: Double) {}
    func learnerOpensEvaluation(at step: Int) -> Bool { false }
    func learnerWillCheckpoint() {}
    func learnerDidCheckpoint(at url: URL, steps: Int, best: Bool) {}
}

/// The host's part of a checkpoint manifest.
struct CheckpointPart {
    /// Environment steps taken: the checkpoint's name and `counters.steps`.
    var steps: Int
    /// Training episodes finished.
    var episodes: Int
    var spaces: SpacesRecord
    /// The host's own generators by name (the single-process exploration stream).
    var randomStreams: [String: Xoshiro256] = [:]
    var environmentState: EnvironmentSnapshot?
    var episode: EpisodeRecord?
    /// The distributed learner's record; nil for the single-process trainer.
    var learner: LearnerRecord?
}
