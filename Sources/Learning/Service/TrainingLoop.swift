import Environments
import Foundation
import Logging
import MEow
import NN
import Replay
import Simulators
import Synchronization
import Telemetry
import Tensor
import Wire

/// The learner's training thread: drain ingested batches into replay, then step the
/// `Learner` while the rate limiter allows, then sleep until there is work.
///
/// It runs on one dedicated thread, not on Swift's cooperative pool: an update takes
/// milliseconds of CPU, and on a 2-core machine two of them would starve every request
/// handler. The agent and the replay buffer belong to this thread alone; everything it
/// shares goes through the ledger's lock or the weights publisher. `meow train` drives the
/// same `Learner` (LocalTrainer.swift); only where the data comes from differs.
final class TrainingLoop: Sendable {
    /// Builds the agent once the spaces are known (at start-up, or at a preset's first HELLO).
    typealias AgentFactory = @Sendable (AgreedSpaces) throws -> any DistributedAgent

    /// What the thread did, reported when it ends.
    struct Outcome: Sendable {
        var updates = 0
        var policyPath: String?
        /// The newest checkpoint written by this session.
        var checkpoint: String?
        var error: LearnerError?
    }

    private let core: LearnerCore
    private let publisher: WeightsPublisher
    private let configuration: LearnerConfiguration
    private let makeAgent: AgentFactory
    private let resume: LoadedCheckpoint?
    /// The write-ahead log read back at `--resume`: its transitions go into replay before anything else.
    private let recovered: RecoveredLog?
    private let writeAheadLog: WriteAheadLog
    /// Added to the agent's update count to make the version served (see `VersionCeiling`).
    private let versionOffset: UInt64
    /// Debug: where to write replay's rows when the loop ends (`--dump-replay`).
    private let dumpReplay: String?
    private let logger = Logger(label: "meow.learner")
    private let done = Mutex<(outcome: Outcome?, waiter: CheckedContinuation<Outcome, Never>?)>((nil, nil))
    /// The loss of the last update, for the stats file.
    let lastLoss = Mutex<Float?>(nil)
    /// The last evaluation (env step, mean return), for the stats file.
    let lastEvaluation = Mutex<(step: Int, meanReturn: Double)?>(nil)
    private let spec: EnvironmentSpec
    private let started = ContinuousClock.now
    /// Evaluation through simulators (PROTOCOL.md 5.15); nil when the learner evaluates a built-in environment.
    private let evaluator: SimulatorEvaluator?
    /// Set once the restored or fresh policy is published (or the thread gave up), with its waiters.
    private let readiness = Mutex<(ready: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    init(core: LearnerCore, publisher: WeightsPublisher, configuration: LearnerConfiguration, spec: EnvironmentSpec,
         resume: LoadedCheckpoint?, recovered: RecoveredLog?, writeAheadLog: WriteAheadLog, versionOffset: UInt64,
         dumpReplay: String?, evaluator: SimulatorEvaluator?, makeAgent: @escaping AgentFactory) {
        self.evaluator = evaluator
        self.core = core
        self.publisher = publisher
        self.configuration = configuration
        self.makeAgent = makeAgent
        self.spec = spec
        self.resume = resume
        self.recovered = recovered
        self.writeAheadLog = writeAheadLog
        self.versionOffset = versionOffset
        self.dumpReplay = dumpReplay
    }

    /// Starts the thread.
    func start() {
        let thread = Thread { [self] in
            let outcome = run()
            markReady()
            let waiter = done.withLock { state -> CheckedContinuation<Outcome, Never>? in
                state.outcome = outcome
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: outcome)
        }
        thread.name = "meow-learner-training"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Waits until the policy the learner serves first is published: the restored one after
    /// `--resume`, so no peer is answered with anything older. Returns at once if the thread ended.
    func ready() async {
        await withCheckedContinuation { continuation in
            let now = readiness.withLock { state -> Bool in
                if state.ready { return true }
                state.waiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    private func markReady() {
        let waiters = readiness.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.ready = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Whether the thread has ended.
    var isFinished: Bool { done.withLock { $0.outcome != nil } }

    /// Waits for the thread to end.
    func wait() async -> Outcome {
        await withCheckedContinuation { continuation in
            let finished = done.withLock { state -> Outcome? in
                if let outcome = state.outcome { return outcome }
                state.waiter = continuation
                return nil
            }
            if let finished { continuation.resume(returning: finished) }
        }
    }

    // MARK: - Start-up

    /// The agent, replay and learner state of this session: fresh, or continued from `resume`,
    /// with the write-ahead log's transitions back in replay.
    private func prepare(_ spaces: AgreedSpaces) throws(LearnerError)
        -> (agent: any DistributedAgent, replay: ReplayBuffer, state: LearnerState) {
        let agent: any DistributedAgent
        do {
            agent = try makeAgent(spaces)
            agent.recordEnvironment(spec.name, model: configuration.modelPath)
        } catch {
            throw .agent("\(error)")
        }
        let config = configuration.agent
        var replay: ReplayBuffer
        var snapshot = false
        do {
            if let resume {
                let recorded = resume.manifest.spaces
                guard recorded.observationDimension == spaces.observationSize,
                      recorded.actionDimension == spaces.actionSize else {
                    throw CheckpointError.incompatible(
                        reason: "the checkpoint's spaces are \(recorded.observationDimension)/\(recorded.actionDimension) "
                            + "dimensional, the actors' \(spaces.observationSize)/\(spaces.actionSize)")
                }
                try agent.restore(from: resume.agent)
                let restored = try resume.restoreReplay()
                if let restored, restored.capacity != config.bufferSize {
                    throw CheckpointError.incompatible(
                        reason: "the replay snapshot holds \(restored.capacity) transitions, this run's buffer-size is "
                            + "\(config.bufferSize)")
                }
                snapshot = restored != nil
                replay = try restored ?? ReplayBuffer(capacity: config.bufferSize,
                                                      observationDimension: spaces.observationSize,
                                                      actionDimension: spaces.actionSize)
            } else {
                replay = try ReplayBuffer(capacity: config.bufferSize, observationDimension: spaces.observationSize,
                                          actionDimension: spaces.actionSize)
            }
            // Replay gets back what the log holds past the snapshot, or its last `capacity` transitions.
            var logged = 0
            if let recovered {
                let checkpointed = UInt64(resume?.manifest.counters.steps ?? 0)
                let start = snapshot ? checkpointed
                    : recovered.transitions - min(recovered.transitions, UInt64(replay.capacity))
                for wire in recovered.batches(from: start) {
                    _ = try replay.insert(contentsOf: try Self.columns(of: wire))
                    logged += wire.count
                }
            }
            let state = try resume.map {
                try LearnerCheckpoint.state(from: $0.manifest, replayRestored: snapshot || logged > 0,
                                            minReplay: configuration.resolvedMinReplay)
            } ?? LearnerCheckpoint.fresh(config: config, minReplay: configuration.resolvedMinReplay)
            let restoredCount = replay.count
            // The ledger's counters were restored before anything listened (LearnerService.init);
            // here only the limiter learns about the restored transitions.
            core.withLedgerAndSignal { $0.restoreReplay(count: restoredCount) }
            if let resume {
                logger.info("""
                    learner: resumed \(resume.directory.path) at \(resume.manifest.counters.steps) env steps, \
                    \(state.updates) updates, policy version \(agent.updateCount)
                    """)
            }
            if resume != nil || recovered != nil {
                let source = snapshot ? "the checkpoint's snapshot and " : ""
                let refill = restoredCount == 0
                    ? "; replay refills, updates resume after env step \(state.learningResumesAfterStep)" : ""
                logger.info("learner: replay holds \(restoredCount) transitions: \(source)\(logged) from the write-ahead log\(refill)")
            }
            return (agent, replay, state)
        } catch let error as CheckpointError {
            throw .checkpoint(error)
        } catch let error as ReplayError {
            throw .replay(error)
        } catch {
            throw .checkpoint(.invalidData(path: resume?.directory.path ?? configuration.runDirectory,
                                           reason: "\(error)"))
        }
    }

    // MARK: - The loop

    private func run() -> Outcome {
        var outcome = Outcome()
        // A preset learns its spaces from the first actor's HELLO, which signals the condition.
        let known = core.wait(until: { $0.spaces != nil || $0.shutdown != .running }) { $0.spaces }
        guard let spaces = known else { return outcome }
        if spec.waitsForFirstPeer {
            // The networks could not be built before: record the spaces the first peer brought.
            logger.info("""
                learner: spaces from the first peer: observation \(spaces.observation.shape), \
                action \(spaces.action.shape); building the networks
                """)
            var recorded = configuration
            recorded.spaces = spaces
            let path = configuration.runDirectory + "/" + RunFiles.config
            do {
                try RunDirectory.write(recorded.rendered, to: URL(fileURLWithPath: path))
            } catch {
                logger.warning("learner: could not record the spaces in \(path): \(error)")
            }
        }
        let agent: any DistributedAgent
        let replay: ReplayBuffer
        let state: LearnerState
        do {
            (agent, replay, state) = try prepare(spaces)
        } catch {
            outcome.error = error
            core.withLedgerAndSignal { $0.beginShutdown(.stopping) }
            return outcome
        }
        publisher.publish(version: versionOffset + UInt64(agent.updateCount), tensors: agent.policyTensors())
        markReady()
        let metrics: FanOutLogger
        do {
            if let resume {
                try RunDirectory.prepareForResume(URL(fileURLWithPath: configuration.runDirectory),
                                                  metricsBytes: resume.manifest.metricsBytes)
            }
            metrics = try Self.openMetrics(in: configuration.runDirectory)
        } catch {
            outcome.error = .io(path: configuration.runDirectory, reason: fileErrorReason(error))
            core.withLedgerAndSignal { $0.beginShutdown(.stopping) }
            return outcome
        }
        defer { try? metrics.close() }
        metrics.hyperparameters(configuration.hyperparameterPairs)

        // Built-in environments are evaluated here, deterministically, as the single-process trainer does;
        // without one, simulators granted EVALUATION run the episodes (PROTOCOL.md §5.15).
        let evaluationEnvironment = spec.spaces == nil
            ? nil : try? EnvironmentRegistry.makeUnitActionEnvironment(name: spec.name, modelPath: configuration.modelPath)
        let simulatorEvaluation = evaluationEnvironment == nil ? evaluator : nil
        let evaluation: Learner.Evaluation = evaluationEnvironment.map { .environment($0) }
            ?? (simulatorEvaluation == nil ? .off : .external)
        let envSteps = core.withLedger { $0.counters.envSteps }
        let learner = Learner(
            agent: agent, replay: replay, state: state,
            run: Learner.RunDescription(
                environment: configuration.environment, model: configuration.modelPath, config: configuration.agent,
                run: configuration.effectiveRun, directory: URL(fileURLWithPath: configuration.runDirectory),
                lossLogInterval: Self.metricsInterval),
            evaluation: evaluation, metrics: metrics, envSteps: envSteps, resumed: resume?.directory)
        let side = ServiceSide(
            loop: self, agent: agent, spaces: spaces, metrics: metrics, simulatorEvaluation: simulatorEvaluation,
            health: HealthScalars(start: learner.sessionStart.at, steps: envSteps),
            // Ordinals in the log number the transitions replay took, offset by what the log never saw.
            unlogged: envSteps - Int(recovered?.transitions ?? 0))
        let capacity = replay.capacity
        let insertFailures = RateLimitedLogger(logger)
        var lastFlush = ContinuousClock.now

        while true {
            let waitStart = ContinuousClock.now
            // Timed wait: the health scalars and the metrics flush are due every `healthInterval`, idle or not.
            // While a round of simulator evaluation holds training, room to sample is no reason to wake
            // (the round's completion signals the condition); arriving batches still are, once they are
            // in the queue: a batch still on its way to disk has nothing to drain yet (its commit signals).
            let held = { simulatorEvaluation?.holdsTraining ?? false }
            let (batches, stop, warm) = core.wait(
                until: { ledger in
                    ledger.hasQueuedBatches || (ledger.hasWork && !held()) || ledger.stopRequested
                        || (ledger.shutdown == .finished && ledger.queuedTransitions == 0)
                },
                deadline: lastFlush + Self.healthInterval
            ) { ledger in (ledger.drain(), ledger.stopRequested, ledger.replaySize >= ledger.limiter.minSizeToSample) }
            if batches.isEmpty && warm && !stop && !held() {
                // Past warm-up, waiting means the limiter wants inserts: that is sample-blocked time.
                let waited = ContinuousClock.now - waitStart
                core.withLedger { $0.recordSampleBlocked(for: waited) }
            }
            for wire in batches {
                do {
                    let overwritten = try learner.insert(contentsOf: try Self.columns(of: wire))
                    let size = learner.replay.count
                    core.withLedger { $0.recordInserted(wire.count, overwritten: overwritten, replaySize: size) }
                } catch {
                    // Validated at admission, so only a bug lands here; the batch is counted, not lost silently.
                    core.withLedger { $0.recordInsertFailed(wire.count, reason: "replay_insert") }
                    insertFailures.log(.error, "replay_insert", "learner: dropped an acknowledged batch of \(wire.count) transitions from "
                        + "actor \(wire.actorID) (seq \(wire.seq)): replay refused it: \(error)")
                }
            }
            if stop { break }
            let inserted = core.withLedger { $0.counters.envSteps }
            // Segments whose transitions all left the ring are no longer needed.
            writeAheadLog.retire(below: UInt64(max(0, inserted - side.unlogged - capacity)))
            // The schedules follow the transitions in replay, updates or not: a checkpoint or an
            // evaluation that fell due is taken now.
            _ = side.attempt { () throws(Learner.CheckpointFailure) in
                try learner.step(envSteps: inserted, updates: 0, host: side)
            }

            // A round of simulator evaluation holds training, as built-in evaluation does, so the
            // policy evaluated is the one checkpointed when it turns out best.
            for round in simulatorEvaluation?.withSchedule({ $0.takeCompleted() }) ?? [] {
                let text = String(format: "learner: evaluation at env step %d: Test/return %.2f over %d simulator episodes",
                                  round.step, round.meanReturn, round.results.count)
                logger.info("\(text)")
                _ = side.attempt { () throws(Learner.CheckpointFailure) in
                    try learner.record(evaluationAt: round.step, meanReturn: round.meanReturn, host: side)
                }
            }
            let evaluating = held()

            var updatedThisRound = false
            while !evaluating, let steps = core.withLedger({ ledger -> Int? in
                !ledger.stopRequested && ledger.reserveSample() ? ledger.counters.envSteps : nil
            }) {
                var opened = false
                _ = side.attempt { () throws(Learner.CheckpointFailure) in
                    opened = try learner.step(envSteps: steps, updates: 1, host: side).evaluationOpened
                }
                outcome.updates += 1
                updatedThisRound = true
                // Fresh batches go into replay before the next update, so ingest never waits on a long run.
                if opened || side.queuedTransitions > 0 { break }
            }
            for (step, episode) in core.withLedger({ $0.takeEpisodes() }) {
                metrics.log(tag: MetricName.episodicReturn, value: episode.episodeReturn, step: step)
                metrics.log(tag: MetricName.episodicLength, value: Double(episode.length), step: step)
            }
            if ContinuousClock.now - lastFlush >= Self.healthInterval {
                side.logHealth()
                try? metrics.flush()
                lastFlush = ContinuousClock.now
            }
            let (finished, queueEmpty) = core.withLedger { ($0.shutdown == .finished, $0.queuedTransitions == 0) }
            if finished && queueEmpty && !updatedThisRound && !core.withLedger({ $0.hasWork }) { break }
        }

        side.publish(force: true)
        // The stop (signal) or end-of-run checkpoint: everything acknowledged is in replay by now.
        let finalSteps = core.withLedger { $0.counters.envSteps }
        if let error = side.attempt({ () throws(Learner.CheckpointFailure) in
            try learner.finish(envSteps: finalSteps, evaluate: false, host: side)
        }) {
            outcome.error = error
        }
        outcome.checkpoint = side.checkpointPath
        if let dumpReplay { Self.dump(learner.replay, to: dumpReplay, logger: logger) }
        let path = configuration.runDirectory + "/" + RunFiles.policy
        do {
            try agent.savePolicy(to: path, extraMetadata: ["spaces": spaces.record.json])
            outcome.policyPath = path
        } catch {
            outcome.error = .io(path: path, reason: "could not save the policy: \(fileErrorReason(error))")
        }
        return outcome
    }

    // MARK: - The service side of the learner

    /// What the distributed learner adds around its `Learner`: weights to the publisher,
    /// counters to the ledger (one place writes them), health scalars and the learner's
    /// record to each checkpoint, and the write-ahead log retired behind a replay snapshot.
    private final class ServiceSide: LearnerHost {
        let loop: TrainingLoop
        let agent: any DistributedAgent
        let spaces: AgreedSpaces
        let metrics: FanOutLogger
        let simulatorEvaluation: SimulatorEvaluator?
        var health: HealthScalars
        /// Env steps the write-ahead log never saw (from before it existed).
        let unlogged: Int
        let publishInterval: Duration
        var publishedVersion: UInt64
        var lastPublish = ContinuousClock.now
        var secondsPerUpdate = 0.0
        /// Transitions admitted but not yet in replay, as of the last update.
        var queuedTransitions = 0
        /// The newest checkpoint written by this session.
        var checkpointPath: String?

        init(loop: TrainingLoop, agent: any DistributedAgent, spaces: AgreedSpaces, metrics: FanOutLogger,
             simulatorEvaluation: SimulatorEvaluator?, health: HealthScalars, unlogged: Int) {
            self.loop = loop
            self.agent = agent
            self.spaces = spaces
            self.metrics = metrics
            self.simulatorEvaluation = simulatorEvaluation
            self.health = health
            self.unlogged = unlogged
            publishInterval = .milliseconds(loop.configuration.weightsPublishIntervalMs)
            publishedVersion = loop.versionOffset + UInt64(agent.updateCount)
        }

        var version: UInt64 { loop.versionOffset + UInt64(agent.updateCount) }

        /// Publishes the weights if they are newer than the served ones and `force` or the publish interval allows.
        func publish(force: Bool) {
            guard version > publishedVersion, force || ContinuousClock.now - lastPublish >= publishInterval else { return }
            loop.publisher.publish(version: version, tensors: agent.policyTensors())
            publishedVersion = version
            lastPublish = ContinuousClock.now
        }

        func learnerDidUpdate(_ statistics: UpdateMetrics, duration: Duration) {
            let seconds = duration.seconds
            secondsPerUpdate = secondsPerUpdate == 0 ? seconds : 0.95 * secondsPerUpdate + 0.05 * seconds
            loop.lastLoss.withLock { $0 = statistics.loss }
            let (version, skipped, perUpdate) = (version, agent.skippedUpdates, secondsPerUpdate)
            queuedTransitions = loop.core.withLedger { ledger in
                ledger.recordTraining(policyVersion: version, updates: ledger.updates + 1, skippedUpdates: skipped,
                                      secondsPerUpdate: perUpdate)
                return ledger.queuedTransitions
            }
            publish(force: false)
        }

        func learnerDidEvaluate(step: Int, meanReturn: Double) {
            loop.lastEvaluation.withLock { $0 = (step, meanReturn) }
        }

        func learnerOpensEvaluation(at step: Int) -> Bool {
            guard let simulatorEvaluation else { return false }
            // The simulators act with exactly these weights: publish them now, then open the round.
            publish(force: true)
            let episodes = loop.configuration.agent.evalEpisodes
            simulatorEvaluation.withSchedule { $0.open(step: step, episodes: episodes) }
            return true
        }

        func logHealth() {
            health.log(to: metrics, ledger: loop.core.withLedger { HealthScalars.Reading($0) },
                       skippedUpdates: agent.skippedUpdates, weightsVersion: loop.publisher.newestVersion)
        }

        func learnerWillCheckpoint() { logHealth() }

        func checkpointPart() -> CheckpointPart {
            let ledger = loop.core.withLedger { $0.counters }
            let configuration = loop.configuration
            return CheckpointPart(
                steps: ledger.envSteps, episodes: ledger.actors.values.reduce(0) { $0 + $1.episodes },
                spaces: SpacesRecord(
                    observationDimension: spaces.observationSize, actionDimension: spaces.actionSize,
                    observationSpace: "\(spaces.observation)", actionSpace: "\(spaces.action)", spaces: spaces.record),
                learner: LearnerRecord(
                    effectiveConfig: configuration.rendered, ledger: ledger,
                    nextEvaluationStep: nil))
        }

        func learnerDidCheckpoint(at url: URL, steps: Int, best: Bool) {
            checkpointPath = url.path
            let note = best ? " (a new best Test/return)" : ""
            loop.logger.info("learner: checkpoint \(url.path) at \(steps) env steps, policy version \(agent.updateCount)\(note)")
            if loop.configuration.run.checkpointReplay {
                // The snapshot holds replay as of this checkpoint: the log is needed only past it.
                loop.writeAheadLog.retire(below: UInt64(max(0, steps - unlogged)))
            }
        }

        /// Runs a learner call; a checkpoint that could not be written is logged and returned, and training goes on.
        func attempt(_ body: () throws(Learner.CheckpointFailure) -> Void) -> LearnerError? {
            do {
                try body()
                return nil
            } catch {
                let failure: LearnerError
                switch error {
                case let .metrics(path, reason): failure = .io(path: path, reason: reason)
                case let .store(error): failure = .checkpoint(error)
                }
                loop.logger.error("learner: checkpoint failed: \(failure)")
                return failure
            }
        }
    }

    /// Writes replay's rows, oldest first, as `TransitionRows` (a debugging aid: tests compare them
    /// with what actors had acknowledged).
    static func dump(_ replay: ReplayBuffer, to path: String, logger: Logger) {
        guard let contents = replay.orderedContents() else {
            if FileManager.default.createFile(atPath: path, contents: Data()) {
                logger.info("learner: replay is empty; wrote an empty dump to \(path)")
            } else {
                logger.error("learner: could not write \(path)")
            }
            return
        }
        let values = TransitionRows.interleave(
            count: contents.count, observationSize: contents.observationDimension,
            actionSize: contents.actionDimension, observations: contents.observations, actions: contents.actions,
            rewards: contents.rewards, nextObservations: contents.nextObservations)
        let data = values.withUnsafeBytes { Data($0) }
        if FileManager.default.createFile(atPath: path, contents: data) {
            logger.info("learner: wrote \(contents.count) replay rows to \(path)")
        } else {
            logger.error("learner: could not write the replay dump \(path)")
        }
    }

    /// Period of the distributed-health scalars (and of the metrics flush).
    static let healthInterval = Duration.seconds(2)

    /// Updates between two rows of loss metrics (the single-process trainer's default).
    static let metricsInterval = 100

    /// metrics.csv (appended to across restarts) and a TensorBoard event file per start, in the run directory.
    static func openMetrics(in directory: String) throws -> FanOutLogger {
        FanOutLogger([
            try TensorBoardWriter(directory: directory),
            try CSVScalarWriter(directory: directory),
        ])
    }

    /// Replay's columns for a wire batch; terminations are done-flag bit 0 (truncation bootstraps).
    static func columns(of wire: Wire.TransitionBatch) throws(ReplayError) -> Replay.TransitionBatch {
        let terminations = wire.doneFlags.map { $0 & DoneFlags.terminated.rawValue != 0 ? Float(1) : 0 }
        return try Replay.TransitionBatch(
            observations: wire.observations, actions: wire.actions, rewards: wire.rewards,
            terminations: terminations, nextObservations: wire.nextObservations,
            observationDimension: wire.observationSize, actionDimension: wire.actionSize)
    }
}
