import Environments
import Foundation
import MEow
import Replay
import Tensor

/// Builds an agent for a config and the environment's dimensions.
public typealias AgentFactory = (
    _ config: MEowConfig, _ observationDimension: Int, _ actionDimension: Int
) throws -> any TrainableAgent

/// How a `LocalTrainer` reports and stops; none of it changes what is learned.
public struct TrainerOptions: Sendable {
    /// The live progress line on stderr.
    public var progress: ProgressMode
    /// Reuse a run directory that already holds metrics.csv.
    public var overwrite: Bool
    /// Loss-type scalars are logged every this many updates, not every step.
    public var lossLogInterval: Int
    /// Buffered metric rows reach the file at least this often.
    public var metricsFlushInterval: Duration
    /// Checked after every step; when set, the run ends early, saves and flushes.
    public var stop: StopFlag?

    public init(
        progress: ProgressMode = .automatic, overwrite: Bool = false, lossLogInterval: Int = 100,
        metricsFlushInterval: Duration = .seconds(5), stop: StopFlag? = nil
    ) {
        self.progress = progress
        self.overwrite = overwrite
        self.lossLogInterval = max(1, lossLogInterval)
        self.metricsFlushInterval = metricsFlushInterval
        self.stop = stop
    }
}

/// One evaluation: the step it ran after and the mean return.
public struct EvaluationPoint: Sendable, Equatable, Codable {
    public var step: Int
    public var meanReturn: Double
}

/// What a training run did, returned by `LocalTrainer.run()` and saved as summary.json.
public struct TrainingSummary: Sendable, Equatable, Codable {
    /// The environment's canonical name.
    public var environment: String
    /// Environment steps taken.
    public var steps: Int
    /// Update calls made, skipped ones included.
    public var updates: Int
    /// Updates the agent skipped because of a non-finite loss or gradient.
    public var skippedUpdates: Int
    /// Training episodes finished.
    public var episodes: Int
    /// The return of the last finished training episode.
    public var lastEpisodicReturn: Double?
    /// Every evaluation, in order; the last one ran after the last step.
    public var evaluations: [EvaluationPoint]
    /// Wall-clock seconds from the first step to the policy save.
    public var elapsedSeconds: Double
    /// Environment steps per second over the whole run (updates and evaluations included).
    public var stepsPerSecond: Double
    /// True when a stop request (SIGINT, SIGTERM) ended the run before `totalSteps`.
    public var interrupted: Bool
    /// Where the final policy was saved.
    public var policyPath: String

    /// The mean return of the last evaluation, nil when evaluation is off.
    public var finalEvaluationReturn: Double? { evaluations.last?.meanReturn }
}

/// The single-process MEow trainer (ALGORITHM.md section 3, CleanRL's loop).
///
/// One environment, one replay buffer, one agent, in one thread: the baseline the
/// distributed learner is compared against, and the engine behind `meow train`. The
/// run directory receives config.json, metrics.csv, policy.safetensors and
/// summary.json. Everything random derives from `config.seed`: the environment's first
/// reset, and three split streams for exploration, replay sampling and evaluation (the
/// agent seeds its own initialisation and dropout), so a run is reproducible.
public final class LocalTrainer {
    public let config: MEowConfig
    /// The environment's canonical name, for logs and the summary.
    public let environmentName: String
    public let runDirectory: URL
    public let options: TrainerOptions
    /// The agent being trained; after `run()` it holds the final policy.
    public let agent: any TrainableAgent

    private var environment: any Environment
    private let evaluationEnvironment: any Environment
    private(set) var replay: ReplayBuffer

    /// A trainer for a built-in environment by name, behind a [-1, 1] action interface.
    ///
    /// The training and evaluation environments are separate instances.
    public convenience init(
        config: MEowConfig, environmentName: String, runDirectory: URL, options: TrainerOptions = TrainerOptions(),
        makeAgent: AgentFactory = DefaultAgent.make
    ) throws {
        let entry = try EnvironmentRegistry.entry(named: environmentName)
        try self.init(
            config: config, environment: EnvironmentRegistry.makeUnitActionEnvironment(name: entry.name),
            evaluationEnvironment: EnvironmentRegistry.makeUnitActionEnvironment(name: entry.name),
            environmentName: entry.name, runDirectory: runDirectory, options: options, makeAgent: makeAgent)
    }

    /// A trainer for any environment whose actions are [-1, 1]^d.
    public init(
        config: MEowConfig, environment: any Environment, evaluationEnvironment: any Environment,
        environmentName: String, runDirectory: URL, options: TrainerOptions = TrainerOptions(),
        makeAgent: AgentFactory = DefaultAgent.make
    ) throws {
        do {
            try config.validate()
        } catch {
            throw ConfigurationError(error)
        }
        for space in [environment.actionSpace, evaluationEnvironment.actionSpace] where space != space.unitBox {
            throw LearningError.actionsNotUnitBox(space.description)
        }
        let observationDimension = environment.observationSpace.count
        let actionDimension = environment.actionSpace.count
        self.config = config
        self.environmentName = environmentName
        self.runDirectory = runDirectory
        self.options = options
        self.environment = environment
        self.evaluationEnvironment = evaluationEnvironment
        // A buffer larger than the run would never be filled: cap it to save memory.
        do {
            replay = try ReplayBuffer(
                capacity: min(config.bufferSize, config.totalSteps), observationDimension: observationDimension,
                actionDimension: actionDimension)
        } catch {
            throw LearningError.replay(error)
        }
        agent = try makeAgent(config, observationDimension, actionDimension)
    }

    // MARK: - The loop

    /// Trains for `config.totalSteps` steps (or until stopped), saves the policy and returns a summary.
    public func run() throws -> TrainingSummary {
        try RunDirectory.prepare(runDirectory, overwrite: options.overwrite)
        try RunDirectory.writeJSON(config, to: file(RunFiles.config))
        let metrics = try MetricsWriter(url: file(RunFiles.metrics))

        var root = Xoshiro256(seed: config.seed)
        var explorationRNG = root.split()
        var replayRNG = root.split()
        var evaluationRNG = root.split()

        let actionDimension = environment.actionSpace.count
        var batch = TransitionBatch(
            count: config.batchSize, observationDimension: replay.observationDimension,
            actionDimension: actionDimension)

        let clock = ContinuousClock()
        let start = clock.now
        let progress = ProgressReporter(mode: options.progress, start: start)
        var nextFlush = start + options.metricsFlushInterval
        func stepsPerSecond(_ steps: Int, at now: ContinuousClock.Instant) -> Double {
            let seconds = Self.seconds(now - start)
            return seconds > 0 ? Double(steps) / seconds : 0
        }

        var summary = TrainingSummary(
            environment: environmentName, steps: 0, updates: 0, skippedUpdates: 0, episodes: 0,
            lastEpisodicReturn: nil, evaluations: [], elapsedSeconds: 0, stepsPerSecond: 0, interrupted: false,
            policyPath: file(RunFiles.policy).path)
        var lastLoss: Float?
        var observation = environment.reset(seed: config.seed)
        var episodeReturn = 0.0
        var episodeLength = 0

        for t in 0..<config.totalSteps {
            // 1. Act: uniform random actions until learning starts, then the stochastic policy (pitfall 12).
            let action: [Float]
            if t < config.learningStarts {
                action = (0..<actionDimension).map { _ in 2 * explorationRNG.nextUniform(Float.self) - 1 }
            } else {
                action = agent.act(observations: observation, count: 1, deterministic: false, rng: &explorationRNG)
            }

            // 2. Step; the environment maps [-1, 1] onto its own action box.
            let result = environment.step(action: action)
            let step = t + 1
            summary.steps = step
            episodeReturn += result.reward
            episodeLength += 1

            // 3. Store the [-1, 1] action (pitfall 13) and the real s' even on truncation;
            //    only `terminated` masks bootstrapping (pitfall 6).
            do {
                try replay.insert(
                    observation: observation, action: action, reward: Float(result.reward),
                    terminated: result.terminated, nextObservation: result.observation)
            } catch {
                throw LearningError.replay(error)
            }

            // 4. Episode end: log and reset; otherwise continue from s'.
            if result.isLast {
                metrics.record(step: step, tag: "charts/episodic_return", value: episodeReturn)
                metrics.record(step: step, tag: "charts/episodic_length", value: episodeLength)
                summary.episodes += 1
                summary.lastEpisodicReturn = episodeReturn
                (episodeReturn, episodeLength) = (0, 0)
                observation = environment.reset(seed: nil)
            } else {
                observation = result.observation
            }

            // 5. Learn, strictly after learningStarts (pitfall 12), on uniform replay batches.
            if t > config.learningStarts {
                for _ in 0..<config.updatesPerStep {
                    replay.sample(into: &batch, using: &replayRNG)
                    let statistics = agent.update(batch: batch)
                    summary.updates += 1
                    lastLoss = statistics.loss
                    if summary.updates % options.lossLogInterval == 0 {
                        metrics.record(update: statistics, alpha: config.alpha, skippedUpdates: agent.skippedUpdates, step: step)
                        metrics.record(
                            step: step, tag: "charts/SPS", value: stepsPerSecond(step, at: clock.now).rounded())
                    }
                }
            }

            // 6. Evaluate every evalEvery steps in the separate evaluation environment.
            if config.evalEvery > 0 && step % config.evalEvery == 0 {
                summary.evaluations.append(evaluate(at: step, rng: &evaluationRNG, metrics: metrics))
            }

            let now = clock.now
            if progress.isDue(now) {
                progress.report(
                    ProgressSnapshot(
                        step: step, totalSteps: config.totalSteps, stepsPerSecond: stepsPerSecond(step, at: now),
                        lastEpisodicReturn: summary.lastEpisodicReturn,
                        lastEvaluationReturn: summary.finalEvaluationReturn, lastLoss: lastLoss),
                    now: now)
            }
            if now >= nextFlush {
                try metrics.flush()
                nextFlush = now + options.metricsFlushInterval
            }
            if options.stop?.isSet == true {
                summary.interrupted = step < config.totalSteps
                break
            }
        }
        progress.finish()

        // A final evaluation unless the last step just had one; an interrupted run exits promptly instead.
        if config.evalEvery > 0 && !summary.interrupted && summary.evaluations.last?.step != summary.steps {
            summary.evaluations.append(evaluate(at: summary.steps, rng: &evaluationRNG, metrics: metrics))
        }

        summary.skippedUpdates = agent.skippedUpdates
        do {
            try agent.savePolicy(to: summary.policyPath)
        } catch {
            try? metrics.close()
            throw LearningError.cannotWrite(path: summary.policyPath, reason: "\(error)")
        }
        let end = clock.now
        summary.elapsedSeconds = Self.seconds(end - start)
        summary.stepsPerSecond = stepsPerSecond(summary.steps, at: end)
        try metrics.close()
        try RunDirectory.writeJSON(summary, to: file(RunFiles.summary))
        return summary
    }

    // MARK: - Pieces of the loop

    /// Deterministic (by default) evaluation over seeds 0 ..< evalEpisodes, logged as `Test/return`.
    private func evaluate(at step: Int, rng: inout Xoshiro256, metrics: MetricsWriter) -> EvaluationPoint {
        let result = PolicyEvaluation.evaluate(
            agent: agent, environment: evaluationEnvironment, episodes: config.evalEpisodes,
            deterministic: config.deterministicEval, rng: &rng)
        metrics.record(step: step, tag: "Test/return", value: result.meanReturn)
        return EvaluationPoint(step: step, meanReturn: result.meanReturn)
    }

    private func file(_ name: String) -> URL {
        runDirectory.appendingPathComponent(name)
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
