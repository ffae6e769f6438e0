import Foundation
import Learning
import MEow
import Replay
import Synchronization
import Telemetry
import Transport
import Wire

/// `meow-actor --gateway-listen URL`: serves ACTION_REQUEST for simulators near them (scale-out).
///
/// ```
///  simulators ──REQ──▶ REP (gateway) ──▶ SimulatorServer: episodes, local inference ──▶ GatewaySink
///                                                  ▲ weights (polled)                      │ batches with seq
///                                                  └──────────── learner ◀── Uplink ◀── Outbox
/// ```
/// To the learner the gateway is one actor: it says HELLO with the spaces of its first
/// simulator, pulls weights like an actor, and uploads the transitions its simulators' rows
/// completed as TRANSITIONS batches through the actor's uploader (seq, outbox, resend after a
/// learner restart). EPISODE_STATS from simulators go upstream under the gateway's actor id;
/// deterministic (evaluation) sessions' episodes are counted here only. The token guards both
/// sides: the gateway presents it to the learner and requires it from simulators.
public final class SimulatorGateway: Sendable {
    /// Builds the inference policy for the agreed sizes and the learner's WELCOME (its preset).
    public typealias PolicyFactory = @Sendable (_ observationSize: Int, _ actionSize: Int, _ welcome: Welcome) throws
        -> any DistributedAgent

    private struct Upstream: Sendable {
        var connection: LearnerConnection?
        var welcome: Welcome?
        var spaces: AgreedSpaces?
        var pending: Task<Result<Welcome, ActorError>, Never>?
    }

    public let configuration: ActorConfiguration
    public let listen: String
    private let makePolicy: PolicyFactory
    private let log: @Sendable (String) -> Void
    private let runID: UInt64
    private let shared: UplinkState
    private let uplink: Uplink
    private let dropLog: RateLimitedReporter
    private let upstream = Mutex(Upstream())
    private let boundPort = Mutex<Int?>(nil)
    /// How long a simulator's HELLO waits for the learner's WELCOME before TRY_LATER.
    private let helloBudget: Duration = .seconds(3)

    public init(configuration: ActorConfiguration, listen: String, makePolicy: @escaping PolicyFactory,
                log: @escaping @Sendable (String) -> Void) throws(ActorError) {
        try configuration.validate()
        if configuration.token == nil && !EndpointURL.isLoopback(listen) {
            throw .invalidSetting(field: "gateway-listen",
                                  expected: "a loopback address, or give --token: simulators must present it")
        }
        self.configuration = configuration
        self.listen = listen
        self.makePolicy = makePolicy
        self.log = log
        var system = SystemRandomNumberGenerator()
        runID = system.next()
        shared = UplinkState(stats: ActorStats(actorID: configuration.actorID, runID: runID,
                                               actorSeed: configuration.seed, environmentSeeds: []))
        uplink = Uplink(configuration: configuration, runID: runID, shared: shared)
        dropLog = RateLimitedReporter(log: log)
    }

    /// The TCP port the gateway listens on, once `run()` has bound it.
    public var port: Int? { boundPort.withLock { $0 } }

    /// Asks the gateway to stop: answer waiting simulators, send what it holds, say GOODBYE.
    public func requestStop() {
        shared.requestStop()
    }

    /// A snapshot of the counters (env steps are the transitions uploaded).
    public func stats() -> ActorStats { shared.stats.withLock { $0 } }

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
        log("gateway \(configuration.actorID): serving simulators on \(listen)"
            + (configuration.token == nil ? "" : " (auth token required)") + "; learner \(configuration.connect)")

        let outbox = Outbox(capacity: configuration.outboxCapacity)
        let sink = GatewaySink(owner: self, outbox: outbox)
        var settings = SimulatorServerSettings()
        settings.seed = configuration.seed &+ UInt64(configuration.actorID)
        let server = SimulatorServer(
            settings: settings, sink: sink, weights: GatewayWeights(shared: shared), metrics: nil,
            makeAgent: { [self] spaces in
                guard let welcome = upstream.withLock({ $0.welcome }) else { throw ActorError.policy("no WELCOME yet") }
                return try makePolicy(spaces.observationSize, spaces.actionSize, welcome)
            }, log: log)
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
        var connection: LearnerConnection?
        while connection == nil && !shared.stopRequested.load(ordering: .relaxed) && !shared.isEnded {
            try? await Task.sleep(for: .milliseconds(50))
            connection = upstream.withLock { $0.welcome != nil ? $0.connection : nil }
        }
        var tasks: [Task<Void, Never>] = []
        var uploader: Task<Bool, Never>?
        if let connection, let welcome = upstream.withLock({ $0.welcome }) {
            shared.observe(learnerVersion: welcome.policyVersion)
            uploader = Task { await uplink.upload(outbox: outbox, connection: connection) }
            tasks.append(Task { await uplink.beat(connection: connection, outbox: outbox,
                                                   interval: .milliseconds(Int(max(10, welcome.heartbeatIntervalMs)))) })
            tasks.append(Task { await pollWeights(connection: connection) })
            tasks.append(Task { await uplink.report(outbox: outbox, started: started) })
            let interval = Duration.milliseconds(configuration.batchIntervalMs ?? Int(welcome.uploadIntervalMs))
            tasks.append(Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(20))
                    sink.flush(olderThan: interval)
                }
            })
        }
        while !shared.stopRequested.load(ordering: .relaxed) && !shared.isEnded {
            try? await Task.sleep(for: .milliseconds(50))
        }
        server.stop()
        sink.flush(olderThan: .zero)
        shared.environmentDone.store(true, ordering: .relaxed)
        outbox.ring()
        var drained = true
        if let uploader {
            let deadline = Task {
                try? await Task.sleep(for: .milliseconds(configuration.drainTimeoutMs))
                uploader.cancel()
            }
            drained = await uploader.value
            deadline.cancel()
        }
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
        if !drained { log("gateway \(configuration.actorID): \(outbox.count) batches left unsent at exit") }
        switch end {
        case .runOver: return uplink.finalStats(state: "run-over", started: started)
        case .failed(let error):
            _ = uplink.finalStats(state: "error", started: started)
            throw error
        case nil: return uplink.finalStats(state: "finished", started: started)
        }
    }

    // MARK: - Requests from simulators

    private func route(_ bytes: [UInt8], pipe: UInt32, server: SimulatorServer) async -> [UInt8] {
        let limits = configuration.limits
        let frame: Frame
        do {
            frame = try Frame.decode(bytes, limits: limits)
        } catch {
            return Self.encode(.error(ErrorReply(error, failedType: FrameHeader.type(of: bytes))),
                               requestID: FrameHeader.requestID(of: bytes), limits)
        }
        // The same session rules as the learner's (PROTOCOL.md 3.1): a request is served only on the
        // connection a simulator's HELLO was welcomed on, and only with that HELLO's ids.
        let session = server.entry(onPipe: pipe).map { PeerSession(role: .simulator, key: $0.peer) }
        if let refusal = PeerSessions.check(frame.message, session: session) {
            return Self.encode(.error(refusal), requestID: frame.requestID, limits)
        }
        let reply: Message
        switch frame.message {
        case .hello(let hello):
            reply = await welcome(hello, pipe: pipe, server: server)
        case .actionRequest(let request):
            let served = await server.serve(request, requestID: frame.requestID, pipe: pipe, extensions: frame.extensions)
            return Self.encode(served.message, requestID: frame.requestID, limits, extensions: served.extensions)
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
        return Self.encode(reply, requestID: frame.requestID, limits)
    }

    private static func encode(_ message: Message, requestID: UInt32, _ limits: WireLimits,
                               extensions: [WireExtension] = []) -> [UInt8] {
        if let bytes = try? Frame(message, requestID: requestID, extensions: extensions).encode(limits: limits) {
            return bytes
        }
        let fallback = ErrorReply(code: .internal, failedType: message.type.rawValue,
                                  text: "the gateway could not encode its reply")
        return (try? Frame(.error(fallback), requestID: requestID).encode(limits: limits)) ?? []
    }

    /// Welcomes a simulator: its token, the run's spaces (the learner's WELCOME for the first).
    private func welcome(_ hello: Hello, pipe: UInt32, server: SimulatorServer) async -> Message {
        if shared.stopRequested.load(ordering: .relaxed) || shared.isEnded {
            return .refused(Refused(code: .shuttingDown, retryAfterMs: 0, text: "the gateway is stopping"))
        }
        guard hello.minVersion <= WireV1.version && WireV1.version <= hello.maxVersion else {
            return .refused(Refused(code: .unsupportedVersion, retryAfterMs: 0,
                                    text: "the gateway speaks protocol \(WireV1.version)"))
        }
        if let token = configuration.token, !ConstantTime.equal(token, hello.authToken) {
            return .refused(Refused(code: .authFailed, retryAfterMs: 0,
                                    text: "wrong or missing auth token; give the gateway's --token"))
        }
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
        if let spaces = upstream.withLock({ $0.spaces }),
           hello.observationSpace.shape != spaces.observation.shape || hello.actionSpace.shape != spaces.action.shape {
            return .refused(Refused(code: .spaceMismatch, retryAfterMs: 0,
                                    text: "this gateway serves observation shape \(spaces.observation.shape) and action "
                                        + "shape \(spaces.action.shape); the simulator has \(hello.observationSpace.shape) "
                                        + "and \(hello.actionSpace.shape)"))
        }
        guard let entry = server.welcome(hello, pipe: pipe) else {
            return .refused(Refused(code: .full, retryAfterMs: 1000,
                                    text: "the gateway serves its maximum of \(server.settings.limits.maxSessions) simulators"))
        }
        var welcome = learnerWelcome
        welcome.capabilities = entry.valuesGranted ? [.valueEstimates] : []
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
            let log = self.log
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
                    log("gateway \(configuration.actorID): welcomed by learner \(welcome.learnerRunID) "
                        + "(preset \(welcome.preset), policy version \(welcome.policyVersion))")
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

    // MARK: - Weights and transitions

    /// Polls the learner for newer weights into the mailbox the simulator server reads.
    private func pollWeights(connection: LearnerConnection) async {
        let period = Duration.milliseconds(max(10, configuration.weightsPollMs))
        while !Task.isCancelled && !shared.isEnded {
            await uplink.pullOnce(connection: connection)
            try? await Task.sleep(for: period)
        }
    }

    fileprivate var agreedSpaces: AgreedSpaces? { upstream.withLock { $0.spaces } }
    fileprivate var batchSize: Int {
        let hint = upstream.withLock { $0.welcome.map { (Int($0.batchHint), Int($0.maxBatch)) } } ?? (128, 512)
        return min(configuration.batchSize ?? hint.0, hint.1)
    }
    fileprivate var uplinkState: UplinkState { shared }

    /// Counts `count` transitions thrown away, by reason, and logs it (the first, then once per 10 s).
    fileprivate func recordDrop(_ count: Int, reason: String, detail: String) {
        shared.stats.withLock { $0.droppedTransitions[reason, default: 0] += count }
        dropLog.report("gateway \(configuration.actorID): dropped \(count) transitions (\(reason)): \(detail)")
    }
    fileprivate var identity: (actorID: UInt32, runID: UInt64) { (configuration.actorID, runID) }
}

/// The gateway's weights: the mailbox its poller fills, loaded by the simulator server.
private struct GatewayWeights: SimulatorWeightsSource {
    let shared: UplinkState

    /// Weights of a new learner run replace the held ones whatever their version number.
    func snapshot(newerThan held: UInt64?) -> (version: UInt64, tensors: [NamedTensor])? {
        guard let update = shared.mailbox.withLock({ $0 }),
              update.generation == shared.learnerGeneration.load(ordering: .sequentiallyConsistent) else { return nil }
        let newLearner = update.generation != shared.servedGeneration.load(ordering: .relaxed)
        guard newLearner || held.map({ update.version > $0 }) ?? true else { return nil }
        shared.servedGeneration.store(update.generation, ordering: .relaxed)
        shared.heldVersion.store(update.version, ordering: .relaxed)
        shared.stats.withLock { stats in
            stats.heldVersion = update.version
            if stats.weightsVersions.count < 1000 { stats.weightsVersions.append(update.version) }
        }
        return (update.version, update.tensors)
    }
}

/// Packs the transitions the gateway's simulator server builds into seq-numbered batches.
///
/// Backpressure: one batch at a time is on its way to the learner. While it is not acknowledged
/// (the learner's rate limiter answers TRY_LATER, or the learner is away) requests that complete
/// transitions wait on the server and, past their budget, get TRY_LATER; nothing is dropped. So
/// the learner's rate limiter paces simulators behind a gateway as it paces those connected to
/// it directly: they run ahead of training by at most the batch in flight and the one filling.
private final class GatewaySink: SimulatorSink, @unchecked Sendable {
    private struct Pending {
        var batches: [Replay.TransitionBatch] = []
        var count = 0
        /// The version that acted, per pending row.
        var versions: [UInt64] = []
        var firstAt: ContinuousClock.Instant?
        var nextSeq: UInt64 = 0
    }

    /// Unacknowledged batches at most (see the type's comment).
    static let inFlight = 1

    private unowned let owner: SimulatorGateway
    private let outbox: Outbox
    private let pending = Mutex(Pending())

    init(owner: SimulatorGateway, outbox: Outbox) {
        self.owner = owner
        self.outbox = outbox
    }

    var agreedSpaces: AgreedSpaces? { owner.agreedSpaces }

    func admit(upTo count: Int, store: Bool, evaluating: Bool, peer: PeerKey, actingVersion: UInt64,
               prepare: () throws(SimulatorError) -> PreparedRequest) throws(SimulatorError) -> SimulatorAdmission {
        if count > 0 && outbox.count >= Self.inFlight && pending.withLock({ $0.count + count >= owner.batchSize }) {
            return .wait(ErrorReply(code: .tryLater, failedType: MessageType.actionRequest.rawValue, retryAfterMs: 50,
                                    text: "the learner has not taken the gateway's last batch yet; training is behind"))
        }
        let prepared = try prepare()
        guard store && prepared.transitions.count > 0 else { return .prepared(prepared) }
        let size = owner.batchSize
        pending.withLock { state in
            state.batches.append(prepared.transitions)
            state.count += prepared.transitions.count
            state.versions += repeatElement(actingVersion, count: prepared.transitions.count)
            if state.firstAt == nil { state.firstAt = .now }
            // Appended under the lock: batches must enter the outbox in seq order. The check above
            // leaves room for it (a stop may still find the outbox full: append then waits).
            if state.count >= size, let full = take(&state) { outbox.append(full) }
        }
        owner.uplinkState.stats.withLock { $0.envSteps += prepared.transitions.count }
        return .prepared(prepared)
    }

    /// Sends the partial batch once its oldest transition has waited `age`.
    func flush(olderThan age: Duration) {
        pending.withLock { state in
            guard let first = state.firstAt, ContinuousClock.now - first >= age, outbox.count < Self.inFlight,
                  let batch = take(&state) else { return }
            outbox.append(batch)
        }
    }

    /// The pending columns as one batch with the next seq (called under the lock).
    private func take(_ state: inout Pending) -> Wire.TransitionBatch? {
        guard state.count > 0, let first = state.batches.first else { return nil }
        var observations: [Float] = [], actions: [Float] = [], rewards: [Float] = []
        var terminations: [Float] = [], next: [Float] = []
        for batch in state.batches {
            observations += batch.observations
            actions += batch.actions
            rewards += batch.rewards
            terminations += batch.terminations
            next += batch.nextObservations
        }
        let (actorID, runID) = owner.identity
        let merged: Replay.TransitionBatch
        do {
            merged = try Replay.TransitionBatch(
                observations: observations, actions: actions, rewards: rewards, terminations: terminations,
                nextObservations: next, observationDimension: first.observationDimension,
                actionDimension: first.actionDimension)
        } catch {
            // Simulators that disagree on shapes; the sequence number stays for the next batch.
            owner.recordDrop(state.count, reason: "unmergeable", detail: "\(error)")
            state = Pending(nextSeq: state.nextSeq)
            return nil
        }
        let version = state.versions.min() ?? 0
        let offsets = state.versions.map { UInt32(clamping: $0 - version) }
        let seq = state.nextSeq
        state = Pending(nextSeq: seq + 1)
        return Wire.TransitionBatch(simulatorColumns: merged, actorID: actorID, runID: runID, seq: seq,
                                    policyVersion: version, actingVersionOffsets: offsets)
    }
}
