import Environments
import Foundation
import Logging
import MEow
import NN
import Replay
import Telemetry
import Tensor

/// Builds an agent for a config and the environment's dimensions.
public typealias AgentFactory = (
    _ config: MEowConfig, _ observationDimension: Int, _ actionDimension: Int
) throws -> any TrainableAgent

/// How a `LocalTrainer` reports and stops; none of it changes what is learned.
public struct TrainerOptions: Sendable {
    /// The live progress line on stderr.
    public var progress: ProgressMode
    /// Reuse a run directory that already holds a run (its metrics, event files and checkpoints are deleted).
    public var overwrite: Bool
    /// Loss-type scalars are logged every this many updates, not every step.
    public var lossLogInterval: Int
    /// Logged scalars reach the files at least this often (Telemetry's background writer).
    public var metricsFlushInterval: Duration
    /// Checked after every step; when set, the run ends early, checkpoints, saves and flushes.
    public var stop: StopFlag?
    /// End this session once the run has taken this many environment steps in total, as a
    /// stop request would (checkpoint included): for time-sliced schedulers and resume tests.
    public var stopAfterSteps: Int?

    public init(
        progress: ProgressMode = .automatic, overwrite: Bool = false, lossLogInterval: Int = 100,
        metricsFlushInterval: Duration = .seconds(5), stop: StopFlag? = nil, stopAfterSteps: Int? = nil
    ) {
        self.progress = progress
        self.overwrite = overwrite
        self.lossLogInterval = max(1, lossLogInterval)
        self.metricsFlushInterval = metricsFlushInterval
        self.stop = stop
        self.stopAfterSteps = stopAfterSteps
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
    /// Environment steps taken (all sessions of a resumed run).
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
    /// Wall-clock seconds of this session, from its first step to the policy save.
    public var elapsedSeconds: Double
    /// Environment steps per second of this session (updates and evaluations included).
    public var stepsPerSecond: Double
    /// True when a stop request (SIGINT, SIGTERM, `stopAfterSteps`) ended the run before `totalSteps`.
    public var interrupted: Bool
    /// Where the final policy was saved.
    public var policyPath: String
    /// The step this session resumed from; nil for a fresh run.
    public var resumedFromStep: Int?
    /// The newest checkpoint written, if any.
    public var lastCheckpoint: String?

    /// The mean return of the last evaluation, nil when evaluation is off.
    public var finalEvaluationReturn: Double? { evaluations.last?.meanReturn }
}

/// The single-process MEow trainer (docs/algorithm.md §5, CleanRL's loop).
///
/// One environment, one replay buffer, one agent, in one thread: the baseline the
/// distributed learner is compared against, and the engine behind `meow train`. The
/// run directory receives config.json, metrics.csv, a TensorBoard event file,
/// checkpoints/, policy.safetensors and summary.json. Everything random derives from
/// `config.seed`: the environment's first reset, and three split streams for
/// exploration, replay sampling and evaluation (the agent seeds its own
/// initialisation and dropout), so a run is reproducible. A checkpoint holds all of
/// it, so a resumed run continues bit for bit as if it had never stopped
/// (docs/checkpoints.md).
public final class LocalTrainer {
    public let config: MEowConfig
    public let settings: RunSettings
    /// The environment's canonical name, for logs and the summary.
    public let environmentName: String
    /// The MuJoCo model file the environment was built from instead of its built-in model, if any.
    public let modelPath: String?
    public let runDirectory: URL
    public let options: TrainerOptions
    /// The agent being trained; after `run()` it holds the final policy.
    public let agent: any TrainableAgent

    private let environment: any Environment
    private let evaluationEnvironment: any Environment
    /// Replay before the run starts (restored from the checkpoint or empty); the learner owns it then.
    private var initialReplay: ReplayBuffer
    /// The learner of the run in progress or finished.
    private var learner: Learner?
    /// Replay as the learner holds it (before `run()`, as restored).
    var replay: ReplayBuffer { learner?.replay ?? initialReplay }
    /// The checkpoint this trainer continues from, nil for a fresh run.
    private let resume: LoadedCheckpoint?
    /// Warnings about repeated events (an unstable simulation), first occurrence then rate-limited.
    private var diagnostics = RateLimitedLogger(Logger(label: "meow.train"))

    /// A trainer for a built-in environment by name, behind a [-1, 1] action interface.
    ///
    /// The training and evaluation environments are separate instances.
    /// `modelPath` replaces a MuJoCo task's built-in model.
    public convenience init(
        config: MEowConfig, settings: RunSettings = RunSettings(), environmentName: String, modelPath: String? = nil,
        runDirectory: URL, options: TrainerOptions = TrainerOptions(), makeAgent: AgentFactory = DefaultAgent.make
    ) throws {
        let entry = try EnvironmentRegistry.entry(named: environmentName)
        try self.init(
            config: config, settings: settings,
            environment: EnvironmentRegistry.makeUnitActionEnvironment(name: entry.name, modelPath: modelPath),
            evaluationEnvironment: EnvironmentRegistry.makeUnitActionEnvironment(name: entry.name, modelPath: modelPath),
            environmentName: entry.name, modelPath: modelPath, runDirectory: runDirectory, options: options,
            makeAgent: makeAgent, resume: nil)
    }

    /// A trainer for any environment whose actions are [-1, 1]^d.
    public convenience init(
        config: MEowConfig, settings: RunSettings = RunSettings(), environment: any Environment,
        evaluationEnvironment: any Environment, environmentName: String, runDirectory: URL,
        options: TrainerOptions = TrainerOptions(), makeAgent: AgentFactory = DefaultAgent.make
    ) throws {
        try self.init(
            config: config, settings: settings, environment: environment, evaluationEnvironment: evaluationEnvironment,
            environmentName: environmentName, runDirectory: runDirectory, options: options, makeAgent: makeAgent,
            resume: nil)
    }

    /// A trainer that continues the run of a checkpoint on a built-in environment.
    ///
    /// `url` is a checkpoint directory, a run's checkpoints/ directory or a run directory
    /// (then its `latest` checkpoint). The config is the checkpoint's; `settings`
    /// replaces its operational settings when given. Output goes to the checkpoint's run
    /// directory. A checkpoint that is missing, truncated or corrupted throws a
    /// `CheckpointError` naming the file: a resume never starts fresh.
    public convenience init(
        resumingFrom url: URL, settings: RunSettings? = nil, options: TrainerOptions = TrainerOptions(),
        makeAgent: AgentFactory = DefaultAgent.make
    ) throws {
        try self.init(
            resuming: try CheckpointStore.load(url), settings: settings, options: options, makeAgent: makeAgent)
    }

    /// A trainer that continues a loaded checkpoint on its built-in environment.
    public convenience init(
        resuming checkpoint: LoadedCheckpoint, settings: RunSettings? = nil, options: TrainerOptions = TrainerOptions(),
        makeAgent: AgentFactory = DefaultAgent.make
    ) throws {
        let name = checkpoint.manifest.environment
        let entry: EnvironmentRegistry.Entry
        do {
            entry = try EnvironmentRegistry.entry(named: name)
        } catch {
            throw CheckpointError.incompatible(reason: "environment '\(name)' is not built in")
        }
        let model = checkpoint.manifest.model
        try self.init(
            resuming: checkpoint, settings: settings,
            environment: EnvironmentRegistry.makeUnitActionEnvironment(name: entry.name, modelPath: model),
            evaluationEnvironment: EnvironmentRegistry.makeUnitActionEnvironment(name: entry.name, modelPath: model),
            options: options, makeAgent: makeAgent)
    }

    /// A trainer that continues a loaded checkpoint on the given environments.
    public convenience init(
        resuming checkpoint: LoadedCheckpoint, settings: RunSettings? = nil, environment: any Environment,
        evaluationEnvironment: any Environment, options: TrainerOptions = TrainerOptions(),
        makeAgent: AgentFactory = DefaultAgent.make
    ) throws {
        let manifest = checkpoint.manifest
        try self.init(
            config: manifest.config, settings: settings ?? manifest.run, environment: environment,
            evaluationEnvironment: evaluationEnvironment, environmentName: manifest.environment, modelPath: manifest.model,
            runDirectory: checkpoint.runDirectory, options: options, makeAgent: makeAgent, resume: checkpoint)
    }

    private init(
        config: MEowConfig, settings: RunSettings, environment: any Environment, evaluationEnvironment: any Environment,
        environmentName: String, modelPath: String? = nil, runDirectory: URL, options: TrainerOptions,
        makeAgent: AgentFactory, resume: LoadedCheckpoint?
    ) throws {
        do {
            try config.validate()
        } catch {
            throw ConfigurationError(error)
        }
        do {
            try settings.validate()
        } catch {
            throw ConfigurationError.invalidValue(flag: ConfigResolver.flag(forField: error.field), expected: error.expected)
        }
        for space in [environment.actionSpace, evaluationEnvironment.actionSpace] where space != space.unitBox {
            throw LearningError.actionsNotUnitBox(space.description)
        }
        let observationDimension = environment.observationSpace.count
        let actionDimension = environment.actionSpace.count
        self.config = config
        self.settings = settings
        self.environmentName = environmentName
        self.modelPath = modelPath
        self.runDirectory = runDirectory
        self.options = options
        self.environment = environment
        self.evaluationEnvironment = evaluationEnvironment
        self.resume = resume
        // A buffer larger than the run would never be filled: cap it to save memory.
        let capacity = min(config.bufferSize, config.totalSteps)
        agent = try makeAgent(config, observationDimension, actionDimension)
        agent.recordEnvironment(environmentName, model: modelPath)
        if let resume {
            let spaces = resume.manifest.spaces
            guard spaces.observationDimension == observationDimension, spaces.actionDimension == actionDimension else {
                throw CheckpointError.incompatible(
                    reason: "the checkpoint's spaces are \(spaces.observationDimension)/\(spaces.actionDimension) "
                        + "dimensional, the environment's \(observationDimension)/\(actionDimension)")
            }
            try agent.restore(from: resume.agent)
            if let restored = try resume.restoreReplay() {
                guard restored.capacity == capacity, restored.observationDimension == observationDimension,
                      restored.actionDimension == actionDimension else {
                    throw CheckpointError.incompatible(
                        reason: "the replay snapshot holds \(restored.capacity) transitions of "
                            + "\(restored.observationDimension)/\(restored.actionDimension) values, this run needs "
                            + "\(capacity) of \(observationDimension)/\(actionDimension)")
                }
                initialReplay = restored
                return
            }
        }
        do {
            initialReplay = try ReplayBuffer(
                capacity: capacity, observationDimension: observationDimension, actionDimension: actionDimension)
        } catch {
            throw LearningError.replay(error)
        }
    }

    // MARK: - The environment side

    /// The single-process data source: one environment stepped in the learner's thread, its
    /// transitions added straight to the learner's replay. A checkpoint stores all of it.
    final class EnvironmentSide: LearnerHost {
        var environment: any Environment
        var steps = 0
        var episodes = 0
        var lastEpisodicReturn: Double?
        var observation: [Float] = []
        var episodeReturn = 0.0
        var episodeLength = 0
        var exploration: Xoshiro256
        /// Episodes an unstable simulation ended in this session (their last transitions were dropped).
        var unstableEpisodes = 0

        init(environment: any Environment, exploration: Xoshiro256) {
            self.environment = environment
            self.exploration = exploration
        }

        func checkpointPart() -> CheckpointPart {
            CheckpointPart(
                steps: steps, episodes: episodes,
                spaces: SpacesRecord(
                    observationDimension: environment.observationSpace.count,
                    actionDimension: environment.actionSpace.count,
                    observationSpace: environment.observationSpace.description,
                    actionSpace: environment.actionSpace.description),
                randomStreams: [RandomStreamName.exploration: exploration],
                environmentState: (environment as? any SnapshotEnvironment)?.snapshot(),
                episode: EpisodeRecord(
                    episodeReturn: episodeReturn, length: episodeLength, observation: observation,
                    lastEpisodicReturn: lastEpisodicReturn))
        }
    }

    /// A fresh run: the environment's first reset, and three generators split from the seed
    /// (exploration here; replay sampling and evaluation for the learner).
    private func freshStart() -> (EnvironmentSide, LearnerState) {
        var root = Xoshiro256(seed: config.seed)
        let side = EnvironmentSide(environment: environment, exploration: root.split())
        let replaySampling = root.split()
        let evaluation = root.split()
        side.observation = side.environment.reset(seed: config.seed)
        return (side, LearnerState(
            replaySampling: replaySampling, evaluation: evaluation,
            learningResumesAfterStep: config.learningStarts, evalEvery: config.evalEvery))
    }

    /// The environment side and learner state a checkpoint continues.
    private func restoredStart(_ checkpoint: LoadedCheckpoint) throws -> (EnvironmentSide, LearnerState) {
        let m = checkpoint.manifest
        let learnerState = try LearnerCheckpoint.state(
            from: m, replayRestored: m.replay != nil, minReplay: config.learningStarts)
        let side = EnvironmentSide(
            environment: environment, exploration: try m.randomStream(RandomStreamName.exploration))
        (side.steps, side.episodes, side.lastEpisodicReturn) = (
            m.counters.steps, m.counters.episodes, m.episode?.lastEpisodicReturn)
        if let snapshot = m.environmentState, let episode = m.episode,
           var snapshotting = environment as? any SnapshotEnvironment {
            do {
                try snapshotting.restore(snapshot)
            } catch {
                throw CheckpointError.invalidData(path: CheckpointStore.manifestName, reason: error.description)
            }
            guard episode.observation.count == environment.observationSpace.count else {
                throw CheckpointError.invalidManifest(reason: "the episode's observation has the wrong length")
            }
            side.environment = snapshotting
            side.observation = episode.observationValues
            (side.episodeReturn, side.episodeLength) = (episode.episodeReturn, episode.length)
        } else {
            // No environment state: start a new episode, seeded from the run seed and the step.
            side.observation = side.environment.reset(seed: config.seed &+ UInt64(side.steps))
        }
        return (side, learnerState)
    }

    // MARK: - The loop

    /// Trains until `config.totalSteps` steps (or until stopped), checkpoints, saves the policy and returns a summary.
    public func run() throws -> TrainingSummary {
        if let resume {
            try RunDirectory.prepareForResume(runDirectory, metricsBytes: resume.manifest.metricsBytes)
        } else {
            try RunDirectory.prepare(runDirectory, overwrite: options.overwrite)
        }
        try RunDirectory.write(
            ConfigFile.render(environment: environmentName, model: modelPath, config: config, settings: settings),
            to: file(RunFiles.config))
        let logger = try makeLogger()
        do {
            let summary = try train(logger: logger)
            try closeLogger(logger)
            try RunDirectory.writeJSON(summary, to: file(RunFiles.summary))
            return summary
        } catch {
            try? logger.close()
            throw error
        }
    }

    private func train(logger: FanOutLogger) throws -> TrainingSummary {
        if resume == nil { logger.hyperparameters(hyperparameterPairs) }
        let (side, learnerState) = try resume.map(restoredStart) ?? freshStart()
        let firstStep = side.steps
        let learner = Learner(
            agent: agent, replay: initialReplay, state: learnerState,
            run: Learner.RunDescription(
                environment: environmentName, model: modelPath, config: config, run: settings,
                directory: runDirectory, lossLogInterval: options.lossLogInterval),
            evaluation: .environment(evaluationEnvironment), metrics: logger, envSteps: firstStep,
            resumed: resume?.directory)
        self.learner = learner
        let actionDimension = side.environment.actionSpace.count

        let clock = ContinuousClock()
        let start = learner.sessionStart.at
        let progress = ProgressReporter(mode: options.progress, start: start)
        var interrupted = false
        var remaining = RemainingTime(updatesAfterStep: learner.state.learningResumesAfterStep)

        for t in firstStep..<config.totalSteps {
            // 1. Act: uniform random actions until learning starts, then the stochastic policy (docs/algorithm.md §5.1, §7.12).
            let action: [Float]
            if t < config.learningStarts {
                action = (0..<actionDimension).map { _ in 2 * side.exploration.nextUniform(Float.self) - 1 }
            } else {
                action = agent.act(
                    observations: side.observation, count: 1, deterministic: false, rng: &side.exploration)
            }

            // 2. Step; the environment maps [-1, 1] onto its own action box.
            let result = side.environment.step(action: action)
            let step = t + 1
            side.steps = step
            side.episodeReturn += result.reward
            side.episodeLength += 1

            // 3. Store the [-1, 1] action (docs/algorithm.md §7.13) and the real s' even on truncation;
            //    only `terminated` masks bootstrapping (docs/algorithm.md §4.6, §7.6).
            //    An unstable simulation ended the episode in a state that is not the dynamics'
            //    (docs/mujoco.md): its last transition is dropped and counted, never stored.
            if result.info.simulationUnstable {
                side.unstableEpisodes += 1
                logger.log(tag: MetricName.unstableEpisodes, value: Float(side.unstableEpisodes), step: step)
                diagnostics.warning(
                    "unstable", "step \(step): the simulation became unstable; the episode ends and its last "
                        + "transition is dropped (\(side.unstableEpisodes) so far)")
            } else {
                do {
                    try learner.insert(
                        observation: side.observation, action: action, reward: Float(result.reward),
                        terminated: result.terminated, nextObservation: result.observation)
                } catch {
                    throw LearningError.replay(error)
                }
            }

            // 4. Episode end: log and reset; otherwise continue from s'.
            if result.isLast {
                logger.log(tag: MetricName.episodicReturn, value: side.episodeReturn, step: step)
                logger.log(tag: MetricName.episodicLength, value: Float(side.episodeLength), step: step)
                side.episodes += 1
                side.lastEpisodicReturn = side.episodeReturn
                (side.episodeReturn, side.episodeLength) = (0, 0)
                side.observation = side.environment.reset(seed: nil)
            } else {
                side.observation = result.observation
            }

            // 5-7. Learn strictly after learning-starts (docs/algorithm.md §5.1, §7.12), evaluate, checkpoint.
            let updates = t > learner.state.learningResumesAfterStep ? config.updatesPerStep : 0
            try Self.rethrow { () throws(Learner.CheckpointFailure) in
                _ = try learner.step(envSteps: step, updates: updates, host: side)
            }

            let now = clock.now
            remaining.observe(step: step, at: now)
            if progress.isDue(now) {
                progress.report(
                    ProgressSnapshot(
                        step: step, totalSteps: config.totalSteps,
                        stepsPerSecond: learner.stepsPerSecond(step, at: now),
                        lastEpisodicReturn: side.lastEpisodicReturn,
                        lastEvaluationReturn: learner.state.evaluations.last?.meanReturn, lastLoss: learner.lastLoss,
                        secondsLeft: remaining.secondsLeft(step: step, totalSteps: config.totalSteps, at: now)),
                    now: now)
            }
            let budgetReached = options.stopAfterSteps.map { step >= $0 } ?? false
            if options.stop?.isSet == true || budgetReached {
                interrupted = step < config.totalSteps
                break
            }
        }
        progress.finish()

        // A final evaluation unless the last step just had one; an interrupted run exits promptly instead.
        try Self.rethrow { () throws(Learner.CheckpointFailure) in
            try learner.finish(envSteps: side.steps, evaluate: !interrupted, host: side)
        }

        let policyPath = file(RunFiles.policy).path
        do {
            try agent.savePolicy(to: policyPath)
        } catch {
            throw LearningError.cannotWrite(path: policyPath, reason: fileErrorReason(error))
        }
        let end = clock.now
        return TrainingSummary(
            environment: environmentName, steps: side.steps, updates: learner.state.updates,
            skippedUpdates: agent.skippedUpdates, episodes: side.episodes,
            lastEpisodicReturn: side.lastEpisodicReturn, evaluations: learner.state.evaluations,
            elapsedSeconds: (end - start).seconds, stepsPerSecond: learner.stepsPerSecond(side.steps, at: end),
            interrupted: interrupted, policyPath: policyPath, resumedFromStep: resume.map { _ in firstStep },
            lastCheckpoint: learner.lastCheckpointDirectory?.path)
    }

    /// Runs `body`, reporting a checkpoint that could not be written as this trainer's errors do.
    private static func rethrow(_ body: () throws(Learner.CheckpointFailure) -> Void) throws {
        do {
            try body()
        } catch let .metrics(path, reason) {
            throw LearningError.cannotWrite(path: path, reason: reason)
        } catch let .store(error) {
            throw error
        }
    }

    private func makeLogger() throws -> FanOutLogger {
        do {
            let flush = options.metricsFlushInterval
            return FanOutLogger([
                try TensorBoardWriter(directory: runDirectory.path, flushInterval: flush),
                try CSVScalarWriter(directory: runDirectory.path, flushInterval: flush),
            ])
        } catch {
            throw LearningError.cannotWrite(path: runDirectory.path, reason: error.description)
        }
    }

    private func closeLogger(_ logger: FanOutLogger) throws {
        do {
            try logger.close()
        } catch {
            throw LearningError.cannotWrite(path: runDirectory.path, reason: error.description)
        }
    }

    /// The effective configuration as CleanRL's hyperparameter table.
    private var hyperparameterPairs: [(name: String, value: String)] {
        [("env", environmentName)] + ConfigKeys.meow.map { ("meow.\($0.name)", $0.render(config)) }
            + ConfigKeys.run.map { ("run.\($0.name)", $0.render(settings)) }
    }

    private func file(_ name: String) -> URL {
        runDirectory.appendingPathComponent(name)
    }
}

/// The names of the trainer's generators in a checkpoint manifest.
public enum RandomStreamName {
    public static let exploration = "exploration"
    public static let replay = "replay"
    public static let evaluation = "evaluation"
}
