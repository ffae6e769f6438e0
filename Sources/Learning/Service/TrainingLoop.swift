import Environments
import Foundation
import Simulators
import Telemetry
import MEow
import NN
import Replay
import Synchronization
import Tensor
import Wire

/// The learner's training thread: drain ingested batches into replay, then update
/// while the rate limiter allows, then sleep until there is work.
///
/// It runs on one dedicated thread, not on Swift's cooperative pool: an update takes
/// milliseconds of CPU, and on a 2-core machine two of them would starve every request
/// handler. The agent and the replay buffer belong to this thread alone; everything it
/// shares goes through the ledger's lock or the weights publisher.
final class TrainingLoop: @unchecked Sendable {
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
    private let log: @Sendable (String) -> Void
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
         dumpReplay: String?, evaluator: SimulatorEvaluator?, log: @escaping @Sendable (String) -> Void,
         makeAgent: @escaping AgentFactory) {
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
        self.log = log
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

    /// The agent, replay and loop state of this session: fresh, or continued from `resume`, with
    /// the write-ahead log's transitions back in replay.
    private func prepare(_ spaces: AgreedSpaces) throws(LearnerError)
        -> (agent: any DistributedAgent, replay: ReplayBuffer, state: LearnerTrainingState) {
        let agent: any DistributedAgent
        do {
            agent = try makeAgent(spaces)
            agent.recordEnvironment(spec.name, model: configuration.modelPath)
        } catch {
            throw .agent("\(error)")
        }
        let config = configuration.agent
        var replay: ReplayBuffer
        var state: LearnerTrainingState
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
            if let resume {
                state = try LearnerCheckpoint.state(from: resume.manifest, replayRestored: snapshot || logged > 0,
                                                    minReplay: configuration.resolvedMinReplay)
            } else {
                state = LearnerCheckpoint.fresh(config: config, minReplay: configuration.resolvedMinReplay)
            }
            let restoredCount = replay.count
            // The ledger's counters were restored before anything listened (LearnerService.init);
            // here only the limiter learns about the restored transitions.
            core.withLedgerAndSignal { $0.restoreReplay(count: restoredCount) }
            state.ledger = core.withLedger { $0.counters }
            if let resume {
                log("learner: resumed \(resume.directory.path) at \(resume.manifest.counters.steps) env steps, "
                    + "\(state.updates) updates, policy version \(agent.updateCount)")
            }
            if resume != nil || recovered != nil {
                log("learner: replay holds \(restoredCount) transitions: "
                    + (snapshot ? "the checkpoint's snapshot and " : "") + "\(logged) from the write-ahead log"
                    + (restoredCount == 0 ? "; replay refills, updates resume after env step "
                        + "\(state.learningResumesAfterStep)" : ""))
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
        // A preset learns its spaces from the first actor's HELLO.
        var spaces: AgreedSpaces?
        while spaces == nil {
            let (known, mode) = core.wait(timeout: .milliseconds(200), until: { $0.spaces != nil || $0.shutdown != .running }) {
                ($0.spaces, $0.shutdown)
            }
            spaces = known
            if spaces == nil && mode != .running { return outcome }
        }
        guard let spaces else { return outcome }
        if spec.waitsForFirstPeer {
            // The networks could not be built before: record the spaces the first peer brought.
            log("learner: spaces from the first peer: observation \(spaces.observation.shape), action "
                + "\(spaces.action.shape); building the networks")
            var recorded = configuration
            recorded.spaces = spaces
            let path = configuration.runDirectory + "/" + RunFiles.config
            do {
                try RunDirectory.write(recorded.rendered, to: URL(fileURLWithPath: path))
            } catch {
                log("learner: could not record the spaces in \(path): \(error)")
            }
        }
        let agent: any DistributedAgent
        var replay: ReplayBuffer
        var state: LearnerTrainingState
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
        let checkpoints = Checkpointing(
            store: CheckpointStore(runDirectory: URL(fileURLWithPath: configuration.runDirectory),
                                   keep: configuration.run.keepCheckpoints),
            configuration: configuration, spaces: spaces, metrics: metrics, log: log)
        var health = HealthScalars(start: ContinuousClock.now, steps: state.ledger.envSteps)

        // Built-in environments are evaluated here, deterministically, as the single-process trainer does.
        let evaluationEnvironment = spec.spaces == nil
            ? nil : try? EnvironmentRegistry.makeUnitActionEnvironment(name: spec.name, modelPath: configuration.modelPath)
        let evalEvery = configuration.agent.evalEvery
        // Without a built-in environment, simulators granted EVALUATION run the episodes (PROTOCOL.md 5.15).
        let simulatorEvaluation = evaluationEnvironment == nil ? evaluator : nil
        if evaluationEnvironment == nil && simulatorEvaluation == nil { state.nextEvaluationStep = nil }
        let checkpointEvery = configuration.run.checkpointEvery
        // What the newest checkpoint holds: the end writes another one if anything moved since.
        var lastCheckpoint: (steps: Int, updates: Int) = resume == nil ? (-1, -1) : (state.ledger.envSteps, state.updates)
        var nextCheckpoint = checkpointEvery > 0 ? (state.ledger.envSteps / checkpointEvery + 1) * checkpointEvery : Int.max
        var lastFlush = ContinuousClock.now

        var batch = Replay.TransitionBatch(count: configuration.agent.batchSize,
                                           observationDimension: spaces.observationSize,
                                           actionDimension: spaces.actionSize)
        let publishInterval = Duration.milliseconds(configuration.weightsPublishIntervalMs)
        var lastPublish = ContinuousClock.now
        var publishedVersion = versionOffset + UInt64(agent.updateCount)
        let capacity = replay.capacity
        // Ordinals in the log number the transitions replay took, offset by what the log never saw.
        let unlogged = core.withLedger { $0.counters.envSteps } - Int(recovered?.transitions ?? 0)
        let insertFailures = RateLimitedReporter(log: log)
        var secondsPerUpdate = 0.0
        let idle = Duration.milliseconds(100)

        /// Logs a finished evaluation as built-in evaluation does, and checkpoints a new best.
        func record(evaluationAt step: Int, meanReturn: Double) {
            metrics.log(tag: MetricName.testReturn, value: meanReturn, step: step)
            lastEvaluation.withLock { $0 = (step, meanReturn) }
            state.evaluations.append(EvaluationPoint(step: step, meanReturn: meanReturn))
            if meanReturn > (state.best?.testReturn ?? -.infinity) {
                // A new best is checkpointed at once; `best` names it and pruning keeps it.
                state.best = BestRecord(step: step, testReturn: meanReturn)
                _ = checkpoint(best: true)
            }
        }

        func logHealth() {
            health.log(to: metrics, ledger: core.withLedger { HealthScalars.Reading($0) },
                       skippedUpdates: agent.skippedUpdates, weightsVersion: publisher.newestVersion)
        }

        /// Writes a checkpoint of the current state (health scalars first, so its metrics rows have them);
        /// a failure is logged and returned.
        func checkpoint(best: Bool) -> LearnerError? {
            logHealth()
            state.ledger = core.withLedger { $0.counters }
            do {
                let url = try checkpoints.save(state: state, agent: agent, replay: replay, best: best)
                outcome.checkpoint = url.path
                lastCheckpoint = (state.ledger.envSteps, state.updates)
                if configuration.run.checkpointReplay {
                    // The snapshot holds replay as of this checkpoint: the log is needed only past it.
                    writeAheadLog.retire(below: UInt64(max(0, state.ledger.envSteps - unlogged)))
                }
                return nil
            } catch {
                log("learner: checkpoint failed: \(error)")
                return error
            }
        }

        while true {
            let waitStart = ContinuousClock.now
            let (batches, stop, warm) = core.wait(timeout: idle, until: { $0.hasWork || $0.stopRequested }) {
                ledger in (ledger.drain(), ledger.stopRequested, ledger.replaySize >= ledger.limiter.minSizeToSample)
            }
            if batches.isEmpty && warm && !stop {
                // Past warm-up, waiting means the limiter wants inserts: that is sample-blocked time.
                let waited = ContinuousClock.now - waitStart
                core.withLedger { $0.recordSampleBlocked(for: waited) }
            }
            for wire in batches {
                do {
                    let overwritten = try replay.insert(contentsOf: try Self.columns(of: wire))
                    let size = replay.count
                    core.withLedger { $0.recordInserted(wire.count, overwritten: overwritten, replaySize: size) }
                } catch {
                    // Validated at admission, so only a bug lands here; the batch is counted, not lost silently.
                    core.withLedger { $0.recordInsertFailed(wire.count, reason: "replay_insert") }
                    insertFailures.report("learner: dropped an acknowledged batch of \(wire.count) transitions from "
                        + "actor \(wire.actorID) (seq \(wire.seq)): replay refused it: \(error)")
                }
            }
            if stop { break }
            let inserted = core.withLedger { $0.counters.envSteps }
            // Segments whose transitions all left the ring are no longer needed.
            writeAheadLog.retire(below: UInt64(max(0, inserted - unlogged - capacity)))
            if inserted >= nextCheckpoint {
                _ = checkpoint(best: false)
                nextCheckpoint = (inserted / checkpointEvery + 1) * checkpointEvery
            }

            // A round of simulator evaluation holds training, as built-in evaluation does, so the
            // policy evaluated is the one checkpointed when it turns out best.
            for round in simulatorEvaluation?.withSchedule({ $0.takeCompleted() }) ?? [] {
                log(String(format: "learner: evaluation at env step %d: Test/return %.2f over %d simulator episodes",
                           round.step, round.meanReturn, round.results.count))
                record(evaluationAt: round.step, meanReturn: round.meanReturn)
            }
            let evaluating = simulatorEvaluation?.withSchedule { $0.holdsTraining } ?? false

            var updatedThisRound = false
            while !evaluating && core.withLedger({ !$0.stopRequested && $0.reserveSample() }) {
                let started = ContinuousClock.now
                replay.sample(into: &batch, using: &state.replaySampling)
                let statistics = agent.update(batch: batch)
                let elapsed = ContinuousClock.now - started
                let seconds = elapsed.seconds
                secondsPerUpdate = secondsPerUpdate == 0 ? seconds : 0.95 * secondsPerUpdate + 0.05 * seconds
                outcome.updates += 1
                state.updates += 1
                updatedThisRound = true
                lastLoss.withLock { $0 = statistics.loss }
                let version = versionOffset + UInt64(agent.updateCount)
                let updates = state.updates
                let (queued, steps) = core.withLedger { ledger in
                    ledger.policyVersion = version
                    ledger.updates = updates
                    ledger.skippedUpdates = agent.skippedUpdates
                    ledger.secondsPerUpdate = secondsPerUpdate
                    return (ledger.queuedTransitions, ledger.acceptedTransitions)
                }
                if version > publishedVersion && ContinuousClock.now - lastPublish >= publishInterval {
                    publisher.publish(version: version, tensors: agent.policyTensors())
                    publishedVersion = version
                    lastPublish = ContinuousClock.now
                }
                if state.updates % Self.metricsInterval == 0 {
                    metrics.logUpdate(statistics, alpha: configuration.agent.alpha,
                                      skippedUpdates: agent.skippedUpdates, step: steps)
                    metrics.log(tag: MetricName.stepsPerSecond,
                                value: (Double(steps - health.firstSteps)
                                    / max(1e-3, (ContinuousClock.now - health.start).seconds)).rounded(),
                                step: steps)
                }
                if let due = state.nextEvaluationStep, steps >= due, let evaluationEnvironment {
                    let result = PolicyEvaluation.evaluate(
                        agent: agent, environment: evaluationEnvironment, episodes: configuration.agent.evalEpisodes,
                        deterministic: configuration.agent.deterministicEval, rng: &state.evaluation)
                    state.nextEvaluationStep = (steps / evalEvery + 1) * evalEvery
                    record(evaluationAt: steps, meanReturn: result.meanReturn)
                } else if let due = state.nextEvaluationStep, steps >= due, let simulatorEvaluation {
                    // The simulators act with exactly these weights: publish them now, then open the round.
                    if version > publishedVersion {
                        publisher.publish(version: version, tensors: agent.policyTensors())
                        publishedVersion = version
                        lastPublish = ContinuousClock.now
                    }
                    state.nextEvaluationStep = (steps / evalEvery + 1) * evalEvery
                    let episodes = configuration.agent.evalEpisodes
                    simulatorEvaluation.withSchedule { $0.open(step: steps, episodes: episodes) }
                    break
                }
                // Fresh batches go into replay before the next update, so ingest never waits on a long run.
                if queued > 0 { break }
            }
            for (step, episode) in core.withLedger({ $0.takeEpisodes() }) {
                metrics.log(tag: MetricName.episodicReturn, value: episode.episodeReturn, step: step)
                metrics.log(tag: MetricName.episodicLength, value: Double(episode.length), step: step)
            }
            if ContinuousClock.now - lastFlush >= Self.healthInterval {
                logHealth()
                try? metrics.flush()
                lastFlush = ContinuousClock.now
            }
            let (finished, queueEmpty) = core.withLedger { ($0.shutdown == .finished, $0.queuedTransitions == 0) }
            if finished && queueEmpty && !updatedThisRound && !core.withLedger({ $0.hasWork }) { break }
        }

        let version = versionOffset + UInt64(agent.updateCount)
        if version > publishedVersion { publisher.publish(version: version, tensors: agent.policyTensors()) }
        // The stop (signal) or end-of-run checkpoint: everything acknowledged is in replay by now.
        if core.withLedger({ $0.counters.envSteps }) != lastCheckpoint.steps || state.updates != lastCheckpoint.updates,
           let error = checkpoint(best: false) {
            outcome.error = error
        }
        if let dumpReplay { Self.dump(replay, to: dumpReplay, log: log) }
        let path = configuration.runDirectory + "/" + RunFiles.policy
        do {
            try agent.savePolicy(to: path, extraMetadata: ["spaces": spaces.record.json])
            outcome.policyPath = path
        } catch {
            outcome.error = .io(path: path, reason: "could not save the policy: \(fileErrorReason(error))")
        }
        return outcome
    }

    /// Writes replay's rows, oldest first, as `TransitionRows` (a debugging aid: tests compare them
    /// with what actors had acknowledged).
    static func dump(_ replay: ReplayBuffer, to path: String, log: @Sendable (String) -> Void) {
        guard let contents = replay.orderedContents() else {
            log(FileManager.default.createFile(atPath: path, contents: Data())
                ? "learner: replay is empty; wrote an empty dump to \(path)" : "learner: could not write \(path)")
            return
        }
        let values = TransitionRows.interleave(
            count: contents.count, observationSize: contents.observationDimension,
            actionSize: contents.actionDimension, observations: contents.observations, actions: contents.actions,
            rewards: contents.rewards, nextObservations: contents.nextObservations)
        let data = values.withUnsafeBytes { Data($0) }
        if FileManager.default.createFile(atPath: path, contents: data) {
            log("learner: wrote \(contents.count) replay rows to \(path)")
        } else {
            log("learner: could not write the replay dump \(path)")
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
