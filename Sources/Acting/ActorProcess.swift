import Environments
import Foundation
import Logging
import MEow
import Synchronization
import Telemetry
import Tensor
import Wire

/// The policy an actor acts with: two closures over an agent that lives on the
/// environment thread (it is built there and never leaves it).
public struct ActingPolicy {
    /// Stochastic actions in [-1, 1] for `count` observations.
    public var act: (_ observations: [Float], _ count: Int, _ rng: inout Xoshiro256) -> [Float]
    /// Replaces the weights with the learner's.
    public var load: (_ tensors: [NamedTensor]) throws -> Void

    public init(act: @escaping (_ observations: [Float], _ count: Int, _ rng: inout Xoshiro256) -> [Float],
                load: @escaping (_ tensors: [NamedTensor]) throws -> Void) {
        self.act = act
        self.load = load
    }
}

/// One actor process: K environments, a local policy copy, and the upload, heartbeat and
/// weight-pull loops that keep it in step with the learner.
///
/// ```
///  environment thread: weights mailbox ─▶ policy ─▶ K envs ─▶ adder ─▶ Outbox (bounded, blocks when full)
///  async tasks:        uploader (Outbox ─▶ TRANSITIONS, EPISODE_STATS)   heartbeat   weights (VariableClient)
/// ```
/// Stepping and inference run on a dedicated thread; network waits are async. A learner
/// that disappears costs nothing but time: unacknowledged batches stay in the outbox and
/// go again (same seq) after a new HELLO.
public final class ActorProcess: Sendable {
    public let configuration: ActorConfiguration
    private let makePolicy: @Sendable (_ observationSize: Int, _ actionSize: Int, _ welcome: Welcome) throws -> ActingPolicy
    private let logger = Logger(label: "meow.actor")
    private let shared: UplinkState
    private let uplink: Uplink
    private let runID: UInt64
    private let environmentSeeds: [UInt64]
    private let actorSeed: UInt64

    public init(configuration: ActorConfiguration,
                makePolicy: @escaping @Sendable (Int, Int, Welcome) throws -> ActingPolicy) throws(ActorError) {
        try configuration.validate()
        self.configuration = configuration
        self.makePolicy = makePolicy
        var system = SystemRandomNumberGenerator()
        runID = system.next()
        // Seeds: the run seed plus the actor index, then one reset seed per environment copy.
        actorSeed = configuration.seed &+ UInt64(configuration.actorID)
        var seeds = Xoshiro256(seed: actorSeed)
        environmentSeeds = (0 ..< configuration.environments).map { _ in seeds.next() >> 1 }
        shared = UplinkState(stats: ActorStats(actorID: configuration.actorID, runID: runID, actorSeed: actorSeed,
                                               environmentSeeds: environmentSeeds))
        uplink = Uplink(configuration: configuration, runID: runID, shared: shared)
    }

    /// Asks the actor to stop: finish the step, flush and send what it holds, say GOODBYE.
    public func requestStop() {
        shared.requestStop()
    }

    /// A snapshot of the counters.
    public func stats() -> ActorStats { shared.stats.withLock { $0 } }

    /// Connects, acts and uploads until stopped, out of steps, or told the run is over.
    public func run() async throws(ActorError) -> ActorStats {
        let started = ContinuousClock.now
        let template: any Environment
        do {
            template = try EnvironmentRegistry.makeEnvironment(name: configuration.environment,
                                                                maxEpisodeSteps: configuration.maxEpisodeSteps,
                                                                modelPath: configuration.modelPath)
        } catch {
            throw .environment(error.description)
        }
        let entry = try? EnvironmentRegistry.entry(named: configuration.environment)
        let hello = Hello(role: .actor, actorID: configuration.actorID, runID: runID, clientName: "meow-actor",
                          clientVersion: MEowVersion.current, authToken: configuration.token ?? [],
                          envID: entry?.gymnasiumID ?? configuration.environment,
                          observationSpace: Self.space(template.observationSpace),
                          actionSpace: Self.space(template.actionSpace))
        logger.info("""
            actor \(configuration.actorID): run \(runID), seed \(configuration.seed) + index \(configuration.actorID) \
            = \(actorSeed), environment seeds \(environmentSeeds), \(configuration.environments) x \(hello.envID), \
            learner \(configuration.connect)
            """)
        let connection = try LearnerConnection(
            url: configuration.connect, tls: configuration.tls, hello: hello, limits: configuration.limits,
            requestTimeout: .milliseconds(configuration.requestTimeoutMs),
            backoffMinimum: .milliseconds(configuration.backoffMinimumMs),
            backoffMaximum: .milliseconds(configuration.backoffMaximumMs),
            onNewLearner: { [shared] in shared.learnerChanged(to: $0) })
        defer { connection.close() }

        // The first WELCOME says how to batch and how often to pull weights.
        let welcome: Welcome
        switch await uplink.firstWelcome(connection) {
        case .success(let first): welcome = first
        case .failure(.runOver):
            let stopped = shared.stopRequested.load(ordering: .relaxed)
            return uplink.finalStats(state: stopped ? "stopped" : "run-over", started: started)
        case .failure(.failed(let error)):
            _ = uplink.finalStats(state: "error", started: started)
            throw error
        }
        let batchSize = min(configuration.batchSize ?? Int(welcome.batchHint), Int(welcome.maxBatch))
        let interval = Duration.milliseconds(configuration.batchIntervalMs ?? Int(welcome.uploadIntervalMs))
        let weightsEvery = configuration.weightsEvery ?? Int(max(1, welcome.weightsRefreshSteps))
        let lag = welcome.weightsLag.map { " or \($0.maxLagVersions) versions behind or \($0.maxAgeMs) ms old" } ?? ""
        logger.info("""
            actor \(configuration.actorID): welcomed by learner \(welcome.learnerRunID) (policy version \
            \(welcome.policyVersion), warm-up \(welcome.warmupTransitions)); batches of \(batchSize), \
            weights every \(weightsEvery) steps\(lag)
            """)
        shared.observe(learnerVersion: welcome.policyVersion)

        let outbox = Outbox(capacity: configuration.outboxCapacity)
        let (weightsRequests, weightsDoorbell) = AsyncStream.makeStream(of: Void.self,
                                                                        bufferingPolicy: .bufferingNewest(1))
        let environmentDone = startEnvironmentThread(
            template: template, welcome: welcome, outbox: outbox, weightsDoorbell: weightsDoorbell,
            batchSize: batchSize, interval: interval, weightsEvery: weightsEvery)

        let uploader = Task { await uplink.upload(outbox: outbox, connection: connection) }
        let heartbeat = Task { await uplink.beat(connection: connection, outbox: outbox,
                                          interval: .milliseconds(Int(max(10, welcome.heartbeatIntervalMs)))) }
        let puller = Task { await uplink.pullWeights(connection: connection, requests: weightsRequests) }
        let reporter = Task { await uplink.report(outbox: outbox, started: started) }
        // A stop, and then the end of the run, each change what a producer waiting for room gives up on:
        // wake the environment thread (and the uploader) at each.
        shared.onStopOrEnd {
            outbox.wakeProducers()
            outbox.ring()
        }
        // Weights news ends the environment thread's wait for room, to follow the learner meanwhile.
        shared.onWeightsNews { outbox.wakeProducers() }

        for await _ in environmentDone {}
        outbox.ring()
        // Give the uploader the drain budget to empty the outbox, then stop everything.
        let drainBudget = Duration.milliseconds(configuration.drainTimeoutMs)
        let deadline = Task {
            // Timed wait: the drain budget (`drainTimeoutMs`) the uploader has to empty the outbox.
            try? await Task.sleep(for: drainBudget)
            uploader.cancel()
        }
        let drained = await uploader.value
        deadline.cancel()
        uploader.cancel()
        heartbeat.cancel()
        puller.cancel()
        weightsDoorbell.finish()
        reporter.cancel()
        _ = await reporter.value
        let end = shared.end.withLock { $0 }
        if drained && end == nil {
            _ = try? await connection.exchange(.goodbye(Goodbye(reason: .done)), on: connection.control)
        }
        if !drained {
            let unsent = outbox.transitionCount
            let reason = shared.dropReason
            shared.stats.withLock { $0.droppedTransitions[reason, default: 0] += unsent }
            logger.warning(
                "actor \(configuration.actorID): \(outbox.count) batches (\(unsent) transitions) left unsent at exit (\(reason))")
        }
        switch end {
        case .runOver: return uplink.finalStats(state: "run-over", started: started)
        case .failed(let error):
            _ = uplink.finalStats(state: "error", started: started)
            throw error
        case nil: return uplink.finalStats(state: "finished", started: started)
        }
    }

    // MARK: - Start-up


    /// The wire form of a box: infinite bounds travel as ±Float.greatestFiniteMagnitude.
    private static func space(_ box: BoxSpace) -> Space {
        let limit = Float.greatestFiniteMagnitude
        return Space(shape: box.shape, low: box.low.map { max($0, -limit) }, high: box.high.map { min($0, limit) })
    }

    // MARK: - Environment thread

    private func startEnvironmentThread(
        template: any Environment, welcome: Welcome, outbox: Outbox, weightsDoorbell: AsyncStream<Void>.Continuation,
        batchSize: Int, interval: Duration, weightsEvery: Int
    ) -> AsyncStream<Void> {
        let (done, finish) = AsyncStream.makeStream(of: Void.self)
        let thread = Thread { [self] in
            actLoop(template: template, welcome: welcome, outbox: outbox, weightsDoorbell: weightsDoorbell,
                    batchSize: batchSize, interval: interval, weightsEvery: weightsEvery)
            shared.environmentDone.store(true, ordering: .relaxed)
            outbox.ring()
            finish.finish()
        }
        thread.name = "meow-actor-environments"
        thread.stackSize = 16 << 20
        thread.start()
        return done
    }

    private func actLoop(template: any Environment, welcome: Welcome, outbox: Outbox,
                         weightsDoorbell: AsyncStream<Void>.Continuation,
                         batchSize: Int, interval: Duration, weightsEvery: Int) {
        let count = configuration.environments
        let observationSize = template.observationSpace.count
        let actionSize = template.actionSpace.count
        let policy: ActingPolicy
        var environments: [any Environment] = []
        do {
            policy = try makePolicy(observationSize, actionSize, welcome)
            for _ in 0 ..< count {
                environments.append(try EnvironmentRegistry.makeUnitActionEnvironment(
                    name: configuration.environment, maxEpisodeSteps: configuration.maxEpisodeSteps,
                    modelPath: configuration.modelPath))
            }
        } catch {
            shared.finish(.failed(.policy("\(error)")))
            return
        }
        // The stream that drew the environment seeds continues into the action noise.
        var root = Xoshiro256(seed: actorSeed)
        for _ in environmentSeeds { _ = root.next() }
        let diagnostics = RateLimitedLogger(logger)
        var rng = root.split()
        var loop = EnvironmentLoop(environments: environments, seeds: environmentSeeds, now: .now)
        var adder = TransitionAdder(actorID: configuration.actorID, runID: runID, observationSize: observationSize,
                                    actionSize: actionSize, batchSize: batchSize, interval: interval)
        var client = VariableClient(updatePeriod: weightsEvery, lagRule: welcome.weightsLag)
        var steps = 0
        let stopping = { [shared] in shared.isStopping }

        var generation = shared.learnerGeneration.load(ordering: .sequentiallyConsistent)
        var newLearnerAt: ContinuousClock.Instant?

        /// Keeps the policy in step with the learner: a new learner run, weights in the mailbox, a
        /// pull that fell due (VariableClient). Weights that do not fit the policy end the run.
        func followLearner() {
            let current = shared.learnerGeneration.load(ordering: .sequentiallyConsistent)
            if current != generation {
                // A new learner run: its versions do not compare with the held one; act randomly
                // until its weights arrive, pulled at once (VariableClient.reset).
                generation = current
                newLearnerAt = .now
                client.reset(learnerVersion: shared.learnerVersion.load(ordering: .relaxed))
                shared.heldVersion.store(0, ordering: .relaxed)
                shared.stats.withLock { stats in
                    stats.heldVersion = 0
                    stats.weightsAfterNewLearnerMs = nil
                }
            }
            if let update = shared.mailbox.withLock({ $0.take() }), update.generation == generation {
                do {
                    try policy.load(update.tensors)
                } catch {
                    shared.finish(.failed(.policy(
                        "the learner's weights do not fit this actor's policy (\(error)); give the actor the "
                            + "learner's architecture flags")))
                    return
                }
                client.didLoad(version: update.version)
                shared.heldVersion.store(client.heldVersion, ordering: .relaxed)
                let sinceNewLearner = newLearnerAt.map { (ContinuousClock.now - $0).milliseconds }
                newLearnerAt = nil
                shared.stats.withLock { stats in
                    stats.heldVersion = update.version
                    if stats.weightsVersions.count < 1000 { stats.weightsVersions.append(update.version) }
                    if let sinceNewLearner { stats.weightsAfterNewLearnerMs = sinceNewLearner }
                }
                if let sinceNewLearner {
                    let after = String(format: "%.0f ms after its welcome", sinceNewLearner)
                    logger.notice("actor \(configuration.actorID): acting on the new learner's weights version \(update.version), \(after)")
                }
            }
            client.observe(learnerVersion: shared.learnerVersion.load(ordering: .relaxed))
            if client.isDue(envSteps: steps) && !shared.pullInFlight.load(ordering: .relaxed) {
                client.didPull(envSteps: steps)
                shared.pullInFlight.store(true, ordering: .relaxed)
                weightsDoorbell.yield()
            }
        }

        while !stopping() && steps < (configuration.maxSteps ?? .max) {
            // A new batch starts only once the outbox has room: rows are never collected while the
            // learner holds the previous batch back, so they are fresh when they arrive. Weights news
            // (a newer version announced, pulled weights delivered) interrupts the wait, so the
            // weights follow the learner's lag rule meanwhile and the next rows act with them.
            if adder.pendingCount == 0 {
                var room = false
                while !room && !stopping() {
                    room = outbox.waitForRoom(giveUp: { stopping() || shared.takeWeightsNews() })
                    if !room { followLearner() }
                }
                if !room { break }
            }
            followLearner()
            if stopping() { break }
            // Uniform random actions until the learner's first trained policy arrives.
            let actions: [Float]
            if client.heldVersion == 0 {
                actions = (0 ..< count * actionSize).map { _ in rng.nextUniform(Float.self) * 2 - 1 }
            } else {
                actions = policy.act(loop.batchedObservations, count, &rng)
            }
            let now = ContinuousClock.now
            let unstableBefore = loop.unstableEpisodes
            var (batches, episodes) = loop.step(actions: actions, policyVersion: client.heldVersion,
                                                adder: &adder, now: now)
            steps += count
            if loop.unstableEpisodes > unstableBefore {
                diagnostics.warning(
                    "unstable", "the simulation became unstable; the episode ends and its last transition is "
                        + "dropped (\(loop.unstableEpisodes) so far)")
            }
            if let due = adder.takeIfDue(now: now) { batches.append(due) }
            shared.stats.withLock { stats in
                stats.envSteps = steps
                stats.unstableEpisodes = loop.unstableEpisodes
                stats.episodes += episodes.count
                if let last = episodes.last { stats.lastReturn = last.episodeReturn }
            }
            if !episodes.isEmpty {
                shared.episodes.withLock { $0.append(contentsOf: episodes) }
                outbox.ring()
            }
            for batch in batches where !outbox.append(batch, giveUp: stopping) { break }
        }
        // Whatever is left goes too, unless the run is over or the learner refused us.
        if let last = adder.flush() {
            let deadline = ContinuousClock.now + .milliseconds(configuration.drainTimeoutMs)
            if shared.isEnded || !outbox.append(last, deadline: deadline, giveUp: { [shared] in shared.isEnded }) {
                shared.stats.withLock { $0.droppedTransitions[shared.dropReason, default: 0] += last.count }
            }
        }
    }

}
