import Foundation
import MEow
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
    /// Called on the training thread every `evalEvery` env steps with the agent and the step.
    typealias Evaluator = (any DistributedAgent, Int) -> Void

    /// What the thread did, reported when it ends.
    struct Outcome: Sendable {
        var updates = 0
        var policyPath: String?
        var error: LearnerError?
    }

    private let core: LearnerCore
    private let publisher: WeightsPublisher
    private let configuration: LearnerConfiguration
    private let makeAgent: AgentFactory
    private let makeEvaluator: (@Sendable () -> Evaluator?)?
    private let done = Mutex<(outcome: Outcome?, waiter: CheckedContinuation<Outcome, Never>?)>((nil, nil))
    /// Seconds per update, and the loss of the last one, for the stats file.
    let lastLoss = Mutex<Float?>(nil)

    init(core: LearnerCore, publisher: WeightsPublisher, configuration: LearnerConfiguration,
         makeAgent: @escaping AgentFactory, makeEvaluator: (@Sendable () -> Evaluator?)? = nil) {
        self.core = core
        self.publisher = publisher
        self.configuration = configuration
        self.makeAgent = makeAgent
        self.makeEvaluator = makeEvaluator
    }

    /// Starts the thread.
    func start() {
        let thread = Thread { [self] in
            let outcome = run()
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
        let agent: any DistributedAgent
        var replay: ReplayBuffer
        do {
            agent = try makeAgent(spaces)
            replay = try ReplayBuffer(capacity: configuration.agent.bufferSize,
                                      observationDimension: spaces.observationSize,
                                      actionDimension: spaces.actionSize)
        } catch let error as ReplayError {
            outcome.error = .replay(error)
            core.withLedgerAndSignal { $0.beginShutdown(.stopping) }
            return outcome
        } catch {
            outcome.error = .agent("\(error)")
            core.withLedgerAndSignal { $0.beginShutdown(.stopping) }
            return outcome
        }
        publisher.publish(version: UInt64(agent.updateCount), tensors: agent.policyTensors())
        let evaluator = makeEvaluator?()
        let evalEvery = configuration.agent.evalEvery
        var nextEvaluation = evalEvery > 0 ? evalEvery : Int.max

        var batch = Replay.TransitionBatch(count: configuration.agent.batchSize,
                                           observationDimension: spaces.observationSize,
                                           actionDimension: spaces.actionSize)
        var rng = Xoshiro256(seed: configuration.agent.seed ^ 0x5EED_0F_4E_91A7)
        let publishInterval = Duration.milliseconds(configuration.weightsPublishIntervalMs)
        var lastPublish = ContinuousClock.now
        var publishedVersion = UInt64(agent.updateCount)
        var secondsPerUpdate = 0.0
        let idle = Duration.milliseconds(100)

        while true {
            let waitStart = ContinuousClock.now
            let (batches, mode, warm) = core.wait(timeout: idle, until: { $0.hasWork || $0.shutdown != .running }) {
                ledger in (ledger.drain(), ledger.shutdown, ledger.replaySize >= ledger.limiter.minSizeToSample)
            }
            if batches.isEmpty && warm && mode == .running {
                // Past warm-up, waiting means the limiter wants inserts: that is sample-blocked time.
                let waited = ContinuousClock.now - waitStart
                core.withLedger { $0.recordSampleBlocked(for: waited) }
            }
            for wire in batches {
                guard let columns = Self.columns(of: wire) else { continue }
                let overwritten = (try? replay.insert(contentsOf: columns)) ?? 0
                let size = replay.count
                core.withLedger { $0.recordInserted(wire.count, overwritten: overwritten, replaySize: size) }
            }
            if mode == .stopping { break }

            var updatedThisRound = false
            while core.withLedger({ $0.shutdown != .stopping && $0.reserveSample() }) {
                let started = ContinuousClock.now
                replay.sample(into: &batch, using: &rng)
                let loss = agent.update(batch: batch)
                let elapsed = ContinuousClock.now - started
                let seconds = elapsed.seconds
                secondsPerUpdate = secondsPerUpdate == 0 ? seconds : 0.95 * secondsPerUpdate + 0.05 * seconds
                outcome.updates += 1
                updatedThisRound = true
                lastLoss.withLock { $0 = loss }
                let version = UInt64(agent.updateCount)
                let (queued, steps) = core.withLedger { ledger in
                    ledger.policyVersion = version
                    ledger.updates = outcome.updates
                    ledger.skippedUpdates = agent.skippedUpdates
                    ledger.secondsPerUpdate = secondsPerUpdate
                    return (ledger.queuedTransitions, ledger.acceptedTransitions)
                }
                if version > publishedVersion && ContinuousClock.now - lastPublish >= publishInterval {
                    publisher.publish(version: version, tensors: agent.policyTensors())
                    publishedVersion = version
                    lastPublish = ContinuousClock.now
                }
                if steps >= nextEvaluation, let evaluator {
                    evaluator(agent, steps)
                    nextEvaluation = (steps / evalEvery + 1) * evalEvery
                }
                // Fresh batches go into replay before the next update, so ingest never waits on a long run.
                if queued > 0 { break }
            }
            let (finished, queueEmpty) = core.withLedger { ($0.shutdown == .finished, $0.queuedTransitions == 0) }
            if finished && queueEmpty && !updatedThisRound && !core.withLedger({ $0.hasWork }) { break }
        }

        let version = UInt64(agent.updateCount)
        if version > publishedVersion { publisher.publish(version: version, tensors: agent.policyTensors()) }
        let path = configuration.runDirectory + "/policy.safetensors"
        do {
            try agent.savePolicy(to: path)
            outcome.policyPath = path
        } catch {
            outcome.error = .io(path: path, reason: "could not save the policy: \(error)")
        }
        return outcome
    }

    /// Replay's columns for a wire batch; terminations are done-flag bit 0 (truncation bootstraps).
    static func columns(of wire: Wire.TransitionBatch) -> Replay.TransitionBatch? {
        let terminations = wire.doneFlags.map { $0 & DoneFlags.terminated.rawValue != 0 ? Float(1) : 0 }
        return try? Replay.TransitionBatch(
            observations: wire.observations, actions: wire.actions, rewards: wire.rewards,
            terminations: terminations, nextObservations: wire.nextObservations,
            observationDimension: wire.observationSize, actionDimension: wire.actionSize)
    }
}
