import Foundation
import Logging
import MEow
import Simulators
import Synchronization
import Telemetry
import Transport
import Wire

/// `meow-actor --gateway-listen URL`: serves ACTION_REQUEST for simulators near them (scale-out).
///
/// ```
///  simulators ──REQ──▶ REP (gateway) ──▶ SimulatorServer: episodes, local inference ──▶ GatewaySink
///                                                  ▲ weights (pulled when due)             │ TransitionAdder
///                                                  └──────────── learner ◀── Uplink ◀── Outbox
/// ```
/// To the learner the gateway is one actor: it says HELLO with the spaces of its first
/// simulator, pulls weights like an actor (`VariableClient`, counting its simulators'
/// transitions as steps), and uploads the transitions its simulators' rows completed as
/// TRANSITIONS batches through the actor's adder and uploader (seq, outbox, resend after a
/// learner restart), each row with its episode id, step index and done flags. EPISODE_STATS
/// from simulators go upstream under the gateway's actor id; deterministic (evaluation)
/// sessions' episodes are counted here only. HELLO from a simulator passes the same
/// `HelloAdmission` as at the learner; the token guards both sides: the gateway presents it to
/// the learner and requires it from simulators.
public final class SimulatorGateway: Sendable {
    /// Builds the inference policy for the agreed sizes and the learner's WELCOME (its preset).
    public typealias PolicyFactory = @Sendable (_ observationSize: Int, _ actionSize: Int, _ welcome: Welcome) throws
        -> any InferencePolicy

    private struct Upstream: Sendable {
        var connection: LearnerConnection?
        var welcome: Welcome?
        var spaces: AgreedSpaces?
        var pending: Task<Result<Welcome, ActorError>, Never>?
    }

    public let configuration: ActorConfiguration
    public let listen: String
    private let makePolicy: PolicyFactory
    private let logger = Logger(label: "meow.gateway")
    private let runID: UInt64
    private let shared: UplinkState
    private let uplink: Uplink
    private let admission: HelloAdmission
    private let upstream = Mutex(Upstream())
    private let boundPort = Mutex<Int?>(nil)
    /// Rings when the learner first welcomes the gateway, when a stop is asked for, and when an
    /// uplink task ends (the run is over): `run()` waits on it.
    private let changes: AsyncStream<Void>
    private let changed: AsyncStream<Void>.Continuation
    /// How long a simulator's HELLO waits for the learner's WELCOME before TRY_LATER.
    private let helloBudget: Duration = .seconds(3)

    public init(configuration: ActorConfiguration, listen: String, makePolicy: @escaping PolicyFactory)
        throws(ActorError) {
        try configuration.validate()
        if configuration.token == nil && !EndpointURL.isLoopback(listen) {
            throw .invalidSetting(field: "gateway-listen",
                                  expected: "a loopback address, or give --token: simulators must present it")
        }
        self.configuration = configuration
        self.listen = listen
        self.makePolicy = makePolicy
        var system = SystemRandomNumberGenerator()
        runID = system.next()
        shared = UplinkState(stats: ActorStats(actorID: configuration.actorID, runID: runID,
                                               actorSeed: configuration.seed, environmentSeeds: []))
        uplink = Uplink(configuration: configuration, runID: runID, shared: shared)
        admission = HelloAdmission(server: "gateway", token: configuration.token)
        (changes, changed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The TCP port the gateway listens on, once `run()` has bound it.
    public var port: Int? { boundPort.withLock { $0 } }

    /// Asks the gateway to stop: answer waiting simulators, send what it holds, say GOODBYE.
    public func requestStop() {
        shared.requestStop()
        changed.yield()
    }

    /// A snapshot of the counters (env steps are the transitions uploaded).
    public func stats() -> ActorStats { shared.stats.withLock { $0 } }

    private var isStopping: Bool { shared.stopRequested.load(ordering: .relaxed) || shared.isEnded }

    /// Serves simulators and uploads until stopped or the learner ends the run.
    public func run() async throws(ActorError) -> ActorStats {
        let started = ContinuousClock.now
        let socket: ReplySocket
        let (closedPipes, closedPipe) = AsyncStream<UInt32>.makeStream()
        do {
            socket = try ReplySocket(options: SocketOptions(maxMessageSize: configuration.limits.maxFrameBytes + 4,
                                                            receiveTimeout: nil, sendTimeout: .seconds(2)))
            try socket.socket.onPipeEvent { event in
                if event.kind == .disconnected { closedPipe.yield(event.pipe) }
            }
            let listener = try socket.listen(listen, tls: nil)
            boundPort.withLock { $0 = listener.port }
        } catch {
            throw .connect(url: listen, reason: "cannot listen for simulators: \(error)")
        }
        defer { socket.close() }
        let token = configuration.token == nil ? "" : " (auth token required)"
        logger.info("gateway \(configuration.actorID): serving simulators on \(listen)\(token); learner \(configuration.connect)")

        let outbox = Outbox(capacity: configuration.outboxCapacity)
        // The end of the run wakes a stopping gateway's last batch if it waits for room.
        shared.onStopOrEnd { outbox.wakeProducers() }
        let (weightsRequests, weightsDoorbell) = AsyncStream.makeStream(of: Void.self,
                                                                        bufferingPolicy: .bufferingNewest(1))
        let sink = GatewaySink(shared: shared, outbox: outbox, weightsDoorbell: weightsDoorbell,
                               spaces: { [self] in upstream.withLock { $0.spaces } })
        var settings = SimulatorServerSettings()
        settings.seed = configuration.seed &+ UInt64(configuration.actorID)
        let server = SimulatorServer(
            settings: settings, sink: sink, weights: sink, metrics: nil,
            makeAgent: { [self] spaces in
                guard let welcome = upstream.withLock({ $0.welcome }) else { throw ActorError.policy("no WELCOME yet") }
                return try makePolicy(spaces.observationSize, spaces.actionSize, welcome)
            })
        server.start()
        let serving = Task {
            try? await socket.serve(contexts: 8, pipeHandler: { [self] bytes, pipe in
                await route(bytes, pipe: pipe, server: server)
            })
        }
        // A simulator whose connection closes keeps its episodes until eviction or its next HELLO.
        let detaching = Task {
            for await pipe in closedPipes { server.detach(pipe: pipe) }
        }
        defer {
            closedPipe.finish()
            detaching.cancel()
        }

        // The learner is dialed when the first simulator says HELLO (its spaces are the run's).
        var wakeups = changes.makeAsyncIterator()
        var connection = upstream.withLock { $0.welcome != nil ? $0.connection : nil }
        while connection == nil && !isStopping {
            _ = await wakeups.next()
            connection = upstream.withLock { $0.welcome != nil ? $0.connection : nil }
        }
        var tasks: [Task<Void, Never>] = []
        var uploader: Task<Bool, Never>?
        if let connection, let welcome = upstream.withLock({ $0.welcome }) {
            shared.observe(learnerVersion: welcome.policyVersion)
            sink.configure(welcome: welcome, batchSize: batchSize(welcome), actorID: configuration.actorID,
                           runID: runID, interval: .milliseconds(configuration.batchIntervalMs ?? Int(welcome.uploadIntervalMs)),
                           weightsEvery: configuration.weightsEvery ?? Int(max(1, welcome.weightsRefreshSteps)))
            server.roomMayHaveChanged()
            let uploading = Task { await uplink.upload(outbox: outbox, connection: connection) }
            uploader = uploading
            tasks.append(Task { [changed] in
                _ = await uploading.value
                changed.yield()
            })
            tasks.append(Task { [changed] in
                await uplink.beat(connection: connection, outbox: outbox,
                                  interval: .milliseconds(Int(max(10, welcome.heartbeatIntervalMs))))
                changed.yield()
            })
            tasks.append(Task { await uplink.pullWeights(connection: connection, requests: weightsRequests) })
            tasks.append(Task { await uplink.report(outbox: outbox, started: started) })
            // A partial batch leaves once its oldest row has waited the upload interval; an
            // acknowledged batch makes room for the next one and for waiting requests.
            tasks.append(Task { await sink.flushWhenDue() })
            tasks.append(Task {
                for await _ in outbox.departures {
                    sink.flushIfDue()
                    server.roomMayHaveChanged()
                }
            })
        }
        while !isStopping {
            _ = await wakeups.next()
        }
        server.stop()
        let drainBudget = Duration.milliseconds(configuration.drainTimeoutMs)
        sink.flushAll(until: .now + drainBudget)
        shared.environmentDone.store(true, ordering: .relaxed)
        outbox.ring()
        var drained = true
        if let uploader {
            let deadline = Task {
                // Timed wait: the drain budget, after which what the outbox still holds is left unsent.
                try? await Task.sleep(for: drainBudget)
                uploader.cancel()
            }
            drained = await uploader.value
            deadline.cancel()
        }
        sink.close()
        weightsDoorbell.finish()
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.value }
        let end = shared.end.withLock { $0 }
        if let connection {
            if drained && end == nil {
                _ = try? await connection.exchange(.goodbye(Goodbye(reason: .done)), on: connection.control)
            }
            connection.close()
        }
        socket.close()
        serving.cancel()
        _ = await serving.value
        if !drained { logger.warning("gateway \(configuration.actorID): \(outbox.count) batches left unsent at exit") }
        switch end {
        case .runOver: return uplink.finalStats(state: "run-over", started: started)
        case .failed(let error):
            _ = uplink.finalStats(state: "error", started: started)
            throw error
        case nil: return uplink.finalStats(state: "finished", started: started)
        }
    }

    private func batchSize(_ welcome: Welcome) -> Int {
        min(configuration.batchSize ?? Int(welcome.batchHint), Int(welcome.maxBatch))
    }

    // MARK: - Requests from simulators

    private func route(_ bytes: [UInt8], pipe: UInt32, server: SimulatorServer) async -> [UInt8] {
        let limits = configuration.limits
        let frame: Frame
        do {
            frame = try Frame.decode(bytes, limits: limits)
        } catch {
            return Frame.replyBytes(undecodable: bytes, error: error, limits: limits, server: "gateway")
        }
        func encode(_ message: Message, extensions: [WireExtension] = []) -> [UInt8] {
            Frame.replyBytes(message, requestID: frame.requestID, extensions: extensions, limits: limits,
                             server: "gateway")
        }
        // The same session rules as the learner's (PROTOCOL.md 3.1): a request is served only on the
        // connection a simulator's HELLO was welcomed on, and only with that HELLO's ids.
        let session = server.entry(onPipe: pipe).map { PeerSession(role: .simulator, key: $0.peer) }
        if let refusal = PeerSessions.check(frame.message, session: session) {
            return encode(.error(refusal))
        }
        let reply: Message
        switch frame.message {
        case .hello(let hello):
            reply = await welcome(hello, pipe: pipe, server: server)
        case .actionRequest(let request):
            let served = await server.serve(request, requestID: frame.requestID, pipe: pipe, extensions: frame.extensions)
            return encode(served.message, extensions: served.extensions)
        case .episodeStats(let stats):
            if let entry = server.entry(onPipe: pipe) {
                if entry.evaluationOnly {
                    server.recordEvaluation(stats.episodes)
                } else {
                    shared.episodes.withLock { $0.append(contentsOf: stats.episodes) }
                    shared.stats.withLock { stats0 in
                        stats0.episodes += stats.episodes.count
                        if let last = stats.episodes.last { stats0.lastReturn = last.episodeReturn }
                    }
                }
                reply = .ack(Ack(ackedType: .episodeStats))
            } else {
                reply = .error(ErrorReply(code: .notWelcome, failedType: frame.message.type.rawValue,
                                          text: "say HELLO as a simulator first"))
            }
        case .goodbye:
            server.goodbye(pipe: pipe)
            reply = .ack(Ack(ackedType: .goodbye))
        default:
            reply = .error(ErrorReply(code: .unexpectedMessage, failedType: frame.message.type.rawValue,
                                      text: "a gateway serves simulators only (HELLO, ACTION_REQUEST, EPISODE_STATS, "
                                          + "GOODBYE); connect actors and observers to the learner"))
        }
        return encode(reply)
    }

    /// Welcomes a simulator: the shared admission (version, token, spaces), the learner's WELCOME
    /// for the first one, a session slot.
    private func welcome(_ hello: Hello, pipe: UInt32, server: SimulatorServer) async -> Message {
        if isStopping {
            return .refused(Refused(code: .shuttingDown, retryAfterMs: 0, text: "the gateway is stopping"))
        }
        if let refused = admission.check(hello) { return .refused(refused) }
        guard hello.role == .simulator else {
            return .refused(Refused(code: .unexpectedMessage, retryAfterMs: 0,
                                    text: "a gateway serves simulators; connect actors and observers to the learner"))
        }
        let learnerWelcome: Welcome
        switch await upstreamWelcome(for: hello) {
        case .success(let welcome): learnerWelcome = welcome
        case .failure(.refused(let code, let text)):
            return .refused(Refused(code: code, retryAfterMs: 0, text: "the learner refused this gateway: \(text)"))
        case .failure(let error):
            return .error(ErrorReply(code: .tryLater, failedType: MessageType.hello.rawValue, retryAfterMs: 500,
                                     text: "\(error)"))
        }
        if let spaces = upstream.withLock({ $0.spaces }), let refused = admission.check(hello, against: spaces) {
            return .refused(refused)
        }
        guard let entry = server.welcome(hello, pipe: pipe) else {
            return .refused(admission.full(maxSessions: server.settings.limits.maxSessions))
        }
        var welcome = learnerWelcome
        welcome.capabilities = HelloAdmission.capabilities(of: entry)
        welcome.policyVersion = shared.heldVersion.load(ordering: .relaxed)
        welcome.maxFrameBytes = UInt32(clamping: configuration.limits.maxFrameBytes)
        return .welcome(welcome)
    }

    /// The learner's WELCOME for this gateway, saying HELLO with `hello`'s spaces the first time.
    private func upstreamWelcome(for hello: Hello) async -> Result<Welcome, ActorError> {
        let task = upstream.withLock { state -> Task<Result<Welcome, ActorError>, Never> in
            if let pending = state.pending { return pending }
            let actorHello = Hello(
                role: .actor, actorID: configuration.actorID, runID: runID, clientName: "meow-actor-gateway",
                clientVersion: MEowVersion.current, authToken: configuration.token ?? [], envID: hello.envID,
                observationSpace: hello.observationSpace, actionSpace: hello.actionSpace)
            let spaces = AgreedSpaces(observation: hello.observationSpace, action: hello.actionSpace)
            let configuration = self.configuration
            let logger = self.logger
            let budget = helloBudget
            let task = Task { [self] () -> Result<Welcome, ActorError> in
                let opened = Result { () throws(ActorError) -> LearnerConnection in
                    try LearnerConnection(
                        url: configuration.connect, tls: configuration.tls, hello: actorHello,
                        limits: configuration.limits, requestTimeout: .milliseconds(configuration.requestTimeoutMs),
                        backoffMinimum: .milliseconds(configuration.backoffMinimumMs),
                        backoffMaximum: .milliseconds(configuration.backoffMaximumMs),
                        onNewLearner: { [shared] in shared.learnerChanged(to: $0) })
                }
                let connection: LearnerConnection
                switch opened {
                case .success(let value): connection = value
                case .failure(let error):
                    upstream.withLock { $0.pending = nil }
                    return .failure(error)
                }
                let attempt = Task { try await connection.welcome().0 }
                let timer = Task {
                    // Timed wait: a simulator's HELLO waits this budget for the learner, then hears TRY_LATER.
                    try? await Task.sleep(for: budget)
                    attempt.cancel()
                }
                defer { timer.cancel() }
                do {
                    let welcome = try await attempt.value
                    upstream.withLock { state in
                        state.connection = connection
                        state.welcome = welcome
                        state.spaces = spaces
                    }
                    changed.yield()
                    logger.info("""
                        gateway \(configuration.actorID): welcomed by learner \(welcome.learnerRunID) \
                        (preset \(welcome.preset), policy version \(welcome.policyVersion))
                        """)
                    return .success(welcome)
                } catch {
                    connection.close()
                    upstream.withLock { $0.pending = nil }
                    if case LearnerConnection.SessionError.refused(let code, let text) = error {
                        return .failure(.refused(code: code, text: text))
                    }
                    if case LearnerConnection.SessionError.runOver = error {
                        return .failure(.refused(code: .shuttingDown, text: "the learner's run is over"))
                    }
                    return .failure(.connect(url: configuration.connect,
                                             reason: "the learner did not answer within \(budget)"))
                }
            }
            state.pending = task
            return task
        }
        return await task.value
    }
}

/// Packs the transitions the gateway's simulator server builds into seq-numbered batches with
/// the actor's `TransitionAdder`, and hands the server the weights the uplink pulled.
///
/// Backpressure: one batch at a time is on its way to the learner. While it is not acknowledged
/// (the learner's rate limiter answers TRY_LATER, or the learner is away) requests that complete
/// transitions wait on the server and, past their budget, get TRY_LATER; nothing is dropped. So
/// the learner's rate limiter paces simulators behind a gateway as it paces those connected to
/// it directly: they run ahead of training by at most the batch in flight and the one filling.
private final class GatewaySink: SimulatorSink, SimulatorWeightsSource {
    private struct State {
        /// nil until the learner's WELCOME fixes the batch size.
        var adder: TransitionAdder?
        /// Transitions that make a batch worth sending (the adder's own size is the learner's maximum).
        var batchSize = 0
        var client = VariableClient(updatePeriod: 1)
        /// The learner generation `client` counts versions of.
        var generation = 0
        /// Transitions stored so far: the gateway's env steps, for the weights schedule.
        var steps = 0
        var closed = false
    }

    /// Unacknowledged batches at most (see the type's comment).
    static let inFlight = 1

    private let shared: UplinkState
    private let outbox: Outbox
    private let weightsDoorbell: AsyncStream<Void>.Continuation
    private let spaces: @Sendable () -> AgreedSpaces?
    private let state = Mutex(State())
    /// Rings when a partial batch starts filling, so `flushWhenDue` can time it.
    private let filling: AsyncStream<Void>
    private let startedFilling: AsyncStream<Void>.Continuation

    init(shared: UplinkState, outbox: Outbox, weightsDoorbell: AsyncStream<Void>.Continuation,
         spaces: @escaping @Sendable () -> AgreedSpaces?) {
        self.shared = shared
        self.outbox = outbox
        self.weightsDoorbell = weightsDoorbell
        self.spaces = spaces
        (filling, startedFilling) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    var agreedSpaces: AgreedSpaces? { spaces() }

    /// Sizes the batches and the weights schedule from the learner's WELCOME.
    func configure(welcome: Welcome, batchSize: Int, actorID: UInt32, runID: UInt64, interval: Duration,
                   weightsEvery: Int) {
        guard let spaces = spaces() else { return }
        state.withLock { state in
            state.adder = TransitionAdder(actorID: actorID, runID: runID, observationSize: spaces.observationSize,
                                          actionSize: spaces.actionSize, batchSize: max(batchSize, Int(welcome.maxBatch)),
                                          interval: interval)
            state.batchSize = batchSize
            state.client = VariableClient(updatePeriod: weightsEvery, lagRule: welcome.weightsLag)
            state.generation = shared.learnerGeneration.load(ordering: .sequentiallyConsistent)
        }
    }

    func admit(upTo count: Int, store: Bool, evaluating: Bool, peer: PeerKey, actingVersion: UInt64,
               prepare: () throws(SimulatorError) -> PreparedRequest) throws(SimulatorError) -> SimulatorAdmission {
        let type = MessageType.actionRequest.rawValue
        let full = outbox.count >= Self.inFlight
        let outcome: Result<SimulatorAdmission, SimulatorError> = state.withLock { state in
            guard !state.closed else {
                return .success(.refuse(ErrorReply(code: .shuttingDown, failedType: type, retryAfterMs: 1000,
                                                   text: "the gateway is stopping")))
            }
            guard var adder = state.adder else {
                return .success(.wait(ErrorReply(code: .tryLater, failedType: type, retryAfterMs: 200,
                                                 text: "the gateway is still connecting to the learner")))
            }
            if count > 0 && full && adder.pendingCount + count >= state.batchSize {
                return .success(.wait(ErrorReply(
                    code: .tryLater, failedType: type, retryAfterMs: 50,
                    text: "the learner has not taken the gateway's last batch yet; training is behind")))
            }
            let prepared: PreparedRequest
            do throws(SimulatorError) {
                prepared = try prepare()
            } catch {
                return .failure(error)
            }
            guard store && prepared.transitions.count > 0 else { return .success(.prepared(prepared)) }
            let wasEmpty = adder.pendingCount == 0
            let now = ContinuousClock.now
            var ready: [Wire.TransitionBatch] = []
            Self.add(prepared, actingVersion: actingVersion, to: &adder, now: now, ready: &ready)
            if adder.pendingCount >= state.batchSize, let batch = adder.flush() { ready.append(batch) }
            state.adder = adder
            // Appended under the lock: batches must enter the outbox in seq order. The check above
            // leaves room for it (a stop may still find the outbox full: append then waits).
            for batch in ready { outbox.append(batch) }
            if wasEmpty && adder.pendingCount > 0 { startedFilling.yield() }
            state.steps += prepared.transitions.count
            requestWeightsIfDue(&state)
            return .success(.prepared(prepared))
        }
        if case .success(.prepared(let prepared, _)) = outcome, store {
            shared.stats.withLock { $0.envSteps += prepared.transitions.count }
        }
        return try outcome.get()
    }

    /// Feeds one request's transitions to the adder row by row, collecting the batches it fills.
    private static func add(_ prepared: PreparedRequest, actingVersion: UInt64, to adder: inout TransitionAdder,
                            now: ContinuousClock.Instant, ready: inout [Wire.TransitionBatch]) {
        let columns = prepared.transitions
        let (o, a) = (columns.observationDimension, columns.actionDimension)
        for row in 0 ..< columns.count {
            let flags = DoneFlags(rawValue: prepared.transitionDoneFlags[row])
            if let batch = adder.add(
                observation: Array(columns.observations[row * o ..< (row + 1) * o]),
                action: Array(columns.actions[row * a ..< (row + 1) * a]), reward: columns.rewards[row],
                nextObservation: Array(columns.nextObservations[row * o ..< (row + 1) * o]),
                terminated: flags.contains(.terminated), truncated: flags.contains(.truncated),
                episodeID: prepared.transitionEpisodeIDs[row], stepIndex: prepared.transitionStepIndices[row],
                policyVersion: actingVersion, now: now) {
                ready.append(batch)
            }
        }
    }

    /// Rings the weights puller when the schedule says a pull is due (as the actor's environment
    /// thread does every few steps), forgetting versions of an earlier learner run.
    private func requestWeightsIfDue(_ state: inout State) {
        let generation = shared.learnerGeneration.load(ordering: .sequentiallyConsistent)
        if generation != state.generation {
            state.generation = generation
            state.client.reset(learnerVersion: shared.learnerVersion.load(ordering: .relaxed))
        }
        state.client.observe(learnerVersion: shared.learnerVersion.load(ordering: .relaxed))
        if state.client.isDue(envSteps: state.steps) && !shared.pullInFlight.load(ordering: .relaxed) {
            state.client.didPull(envSteps: state.steps)
            shared.pullInFlight.store(true, ordering: .relaxed)
            weightsDoorbell.yield()
        }
    }

    /// The weights the uplink pulled into the mailbox, when newer than the server's.
    ///
    /// Weights of a new learner run replace the held ones whatever their version number.
    func snapshot(newerThan held: UInt64?) -> (version: UInt64, tensors: [NamedTensor])? {
        guard let update = shared.mailbox.withLock({ $0 }),
              update.generation == shared.learnerGeneration.load(ordering: .sequentiallyConsistent) else { return nil }
        let newLearner = update.generation != shared.servedGeneration.load(ordering: .relaxed)
        guard newLearner || held.map({ update.version > $0 }) ?? true else { return nil }
        shared.servedGeneration.store(update.generation, ordering: .relaxed)
        shared.heldVersion.store(update.version, ordering: .relaxed)
        state.withLock { $0.client.didLoad(version: update.version) }
        shared.stats.withLock { stats in
            stats.heldVersion = update.version
            if stats.weightsVersions.count < 1000 { stats.weightsVersions.append(update.version) }
        }
        return (update.version, update.tensors)
    }

    /// Sends the partial batch once its oldest row has waited the upload interval, each time one
    /// starts filling; ends when the sink closes.
    func flushWhenDue() async {
        for await _ in filling {
            guard let deadline = state.withLock({ $0.adder.map { ($0.interval, $0.pendingCount) } }),
                  deadline.1 > 0 else { continue }
            // Timed wait: a partial batch leaves once its oldest row has waited the upload interval.
            try? await Task.sleep(for: deadline.0)
            if Task.isCancelled { return }
            flushIfDue()
        }
    }

    /// Sends the partial batch if it is due and the outbox has room.
    func flushIfDue() {
        state.withLock { state in
            guard outbox.count < Self.inFlight, var adder = state.adder else { return }
            let batch = adder.takeIfDue(now: .now)
            state.adder = adder
            if let batch { outbox.append(batch) }
            // Still due later (the outbox was full): the next departure sends it.
        }
    }

    /// Sends whatever is pending (the gateway is stopping), waiting for outbox room until
    /// `deadline`; rows that find none are counted as dropped.
    func flushAll(until deadline: ContinuousClock.Instant) {
        state.withLock { state in
            guard var adder = state.adder else { return }
            let batch = adder.flush()
            state.adder = adder
            guard let batch else { return }
            let appended = outbox.append(batch, deadline: deadline, giveUp: { [shared] in shared.isEnded })
            if !appended {
                shared.stats.withLock { $0.droppedTransitions[shared.dropReason, default: 0] += batch.count }
            }
        }
    }

    /// Refuses further requests and ends `flushWhenDue`.
    func close() {
        state.withLock { $0.closed = true }
        startedFilling.finish()
    }
}
