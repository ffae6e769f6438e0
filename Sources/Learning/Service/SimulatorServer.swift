import Foundation
import MEow
import Replay
import Synchronization
import Telemetry
import Tensor
import Wire

/// Where a simulator server puts the transitions it builds: the learner's ingest queue, or a
/// gateway's upload outbox.
public protocol SimulatorSink: Sendable {
    /// The spaces every simulator must share; nil until known (a preset before its first HELLO).
    var agreedSpaces: AgreedSpaces? { get }

    /// Builds and stores one request's transitions, atomically with the capacity check.
    ///
    /// `count` bounds the transitions `prepare` can build. When they fit, the sink runs
    /// `prepare` and, if `store` (false for evaluation: it stays out of replay), stores its
    /// `transitions`; otherwise it answers `.wait` (backpressure: the server retries until the
    /// request's budget runs out) or `.refuse` without running `prepare`, so nothing changes.
    func admit(upTo count: Int, store: Bool, peer: PeerKey, actingVersion: UInt64,
               prepare: () throws(SimulatorError) -> PreparedRequest) throws(SimulatorError) -> SimulatorAdmission
}

/// A sink's answer to one request.
public enum SimulatorAdmission: Sendable {
    /// Built (and stored unless deterministic). With a receipt, the reply waits until it says
    /// the stored transitions are durable (the learner's write-ahead log).
    case prepared(PreparedRequest, receipt: StoreReceipt? = nil)
    /// No room now: TRY_LATER once the budget is spent.
    case wait(ErrorReply)
    /// Never (the run is over, the learner is stopping).
    case refuse(ErrorReply)
}

/// Says once whether a request's stored transitions became durable; the reply waits for it.
public final class StoreReceipt: Sendable {
    private enum State {
        case waiting(((ErrorReply?) -> Void)?)
        case done(ErrorReply?)
    }

    private let state = Mutex<State>(.waiting(nil))

    public init() {}

    /// Settles the receipt: nil when durable, else the error the request is answered with.
    public func complete(_ failure: ErrorReply?) {
        let waiter = state.withLock { state -> ((ErrorReply?) -> Void)? in
            guard case .waiting(let waiter) = state else { return nil }
            state = .done(failure)
            return waiter
        }
        waiter?(failure)
    }

    /// Runs `body` once settled (at once if it already is), on the thread that settles it.
    public func whenDone(_ body: @escaping @Sendable (ErrorReply?) -> Void) {
        let settled = state.withLock { state -> ErrorReply?? in
            switch state {
            case .done(let failure): return .some(failure)
            case .waiting: state = .waiting(body); return .none
            }
        }
        if let settled { body(settled) }
    }
}

/// Where the server's inference policy gets its weights.
public protocol SimulatorWeightsSource: Sendable {
    /// The newest weights if newer than `held` (nil: none yet, or `held` is current).
    func snapshot(newerThan held: UInt64?) -> (version: UInt64, tensors: [NamedTensor])?
}

extension WeightsPublisher: SimulatorWeightsSource {}

/// Settings of a simulator server.
public struct SimulatorServerSettings: Sendable {
    /// Sessions and episodes a server remembers at once.
    public var limits = SimulatorLimits()
    /// A request not served this long after it arrived is answered ERROR TRY_LATER, untouched.
    public var requestBudget: Duration = .milliseconds(1000)
    /// Sessions and episodes silent this long are forgotten (three heartbeat intervals).
    public var peerTimeout: Duration = .seconds(3)
    /// Rows waiting for the server thread; beyond this a request is answered TRY_LATER at once.
    public var maxQueuedRows = 65_536
    /// Seed of the exploration noise (and of the uniform actions before the first update).
    public var seed: UInt64 = 0x51A7

    public init() {}

    /// A learner's settings: its peer timeout, and a seed derived from the run's.
    public init(learner configuration: LearnerConfiguration) {
        peerTimeout = .milliseconds(configuration.resolvedPeerTimeoutMs)
        seed = configuration.agent.seed ^ 0x51A7_0A11
    }
}

/// Counters of a simulator server, for the stats file.
public struct SimulatorServerStats: Codable, Sendable, Equatable {
    public var sessions = 0
    public var runningEpisodes = 0
    public var requests = 0
    public var rows = 0
    /// Transitions handed to the sink (deterministic requests' are not).
    public var transitions = 0
    public var duplicates = 0
    public var tryLater = 0
    public var timeouts = 0
    public var errors = 0
    public var episodesStarted = 0
    public var episodesEnded = 0
    public var episodesEvicted = 0
    public var sessionsEvicted = 0
    /// The version of the policy that acts (0: uniform random actions, before the first update).
    public var policyVersion: UInt64 = 0
    /// Inference calls and the rows they covered (rows per call shows cross-request batching).
    public var inferenceCalls = 0
    public var inferenceRows = 0
    public var latencyP50Ms: Double?
    public var latencyP99Ms: Double?
    /// Episodes reported by evaluation-only (deterministic) sessions; they stay out of the curves.
    public var evaluationEpisodes = 0
    public var lastEvaluationReturn: Double?

    public init() {}
}

/// Serves ACTION_REQUEST: the simulators' side of the learner, and of a meow-actor gateway.
///
/// ```
///  REP contexts ──job──▶ queue ──▶ server thread: SimulatorEpisodes.handle ─▶ sink (replay / outbox)
///        ▲                                        one batched act call for every ready request
///        └──────────── reply ◀───────────────── SimulatorEpisodes.complete
/// ```
/// One dedicated thread owns the episodes and the inference agent, so neither needs a lock and
/// inference never touches the training thread's agent: the inference agent is a second
/// `DistributedAgent` that loads each newer weights snapshot (`loadPolicyTensors`, as actors
/// do). The thread takes every queued request at once and answers them with one forward pass
/// (two when stochastic and deterministic requests are mixed), so concurrent simulators batch.
///
/// Backpressure: a request whose transitions do not fit the sink waits on the server (the
/// simulator's next step is simply later) and is answered ERROR TRY_LATER, with nothing
/// applied, once its `requestBudget` is spent; the queue of waiting rows is bounded too.
/// Before the first update (policy version 0) stochastic requests get uniform random actions,
/// as an actor's and the single-process trainer's warm-up do.
public final class SimulatorServer: @unchecked Sendable {
    private struct Job {
        let request: ActionRequest
        let requestID: UInt32
        let entry: SimulatorSessions.Entry
        let pipe: UInt32
        let received: ContinuousClock.Instant
        let continuation: CheckedContinuation<Message, Never>
        var waitReply: ErrorReply?
        var receipt: StoreReceipt?
    }

    public let settings: SimulatorServerSettings
    private let sink: any SimulatorSink
    private let weights: any SimulatorWeightsSource
    private let makeAgent: @Sendable (AgreedSpaces) throws -> any DistributedAgent
    private let log: @Sendable (String) -> Void
    private let attachedMetrics = Mutex<LearnerMetrics?>(nil)
    private var metrics: LearnerMetrics? { attachedMetrics.withLock { $0 } }

    /// Pipe-to-session table, read and written by the request handlers.
    private let sessions: Mutex<SimulatorSessions>
    private let counters = Mutex(SimulatorServerStats())
    private let latencies = Mutex(LatencyWindow())

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var incoming: [Job] = []
    private var incomingRows = 0
    private var endedSessions: [UInt64] = []
    private var running = false
    private var stopped = false
    private var finished = false

    // Confined to the server thread.
    private var episodes: SimulatorEpisodes?
    private var agent: (any DistributedAgent)?
    private var heldVersion: UInt64?
    private var rng: Xoshiro256

    public init(settings: SimulatorServerSettings, sink: any SimulatorSink, weights: any SimulatorWeightsSource,
                metrics: LearnerMetrics?,
                makeAgent: @escaping @Sendable (AgreedSpaces) throws -> any DistributedAgent,
                log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.sink = sink
        self.weights = weights
        attachedMetrics.withLock { $0 = metrics }
        self.makeAgent = makeAgent
        self.log = log
        sessions = Mutex(SimulatorSessions(maxSessions: settings.limits.maxSessions))
        rng = Xoshiro256(seed: settings.seed)
    }

    // MARK: - Lifecycle

    /// Records latencies and timeouts in `metrics` from now on (the learner's /metrics).
    public func attach(metrics: LearnerMetrics) {
        attachedMetrics.withLock { $0 = metrics }
    }

    /// Starts the server thread.
    public func start() {
        condition.lock()
        defer { condition.unlock() }
        guard !running && !stopped else { return }
        running = true
        let thread = Thread { [self] in
            serveLoop()
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        thread.name = "meow-simulators"
        thread.stackSize = 16 << 20
        thread.start()
    }

    /// Answers waiting requests SHUTTING_DOWN and ends the thread; returns when it has.
    public func stop() {
        condition.lock()
        stopped = true
        condition.broadcast()
        while running && !finished { condition.wait() }
        let orphans = incoming
        incoming = []
        condition.unlock()
        for job in orphans { job.continuation.resume(returning: Self.shuttingDown) }
    }

    private static let shuttingDown = Message.error(ErrorReply(
        code: .shuttingDown, failedType: MessageType.actionRequest.rawValue, retryAfterMs: 1000,
        text: "the server is stopping"))

    // MARK: - Sessions (request handlers)

    /// Registers a simulator welcomed on `pipe`; nil when the server is full (answer REFUSED FULL).
    public func welcome(_ hello: Hello, pipe: UInt32, now: ContinuousClock.Instant = .now) -> SimulatorSessions.Entry? {
        sessions.withLock { $0.welcome(hello, pipe: pipe, now: now) }
    }

    /// The welcomed simulator on `pipe`, if any.
    public func entry(onPipe pipe: UInt32) -> SimulatorSessions.Entry? {
        sessions.withLock { $0.entry(onPipe: pipe) }
    }

    /// Forgets that `pipe` belongs to a session (its connection closed). The session itself stays
    /// until it is evicted, so a simulator that reconnects and says HELLO again keeps its episodes.
    public func detach(pipe: UInt32) {
        sessions.withLock { $0.detach(pipe: pipe) }
    }

    /// Ends the session on `pipe` (GOODBYE); its running episodes are forgotten. False if none.
    @discardableResult
    public func goodbye(pipe: UInt32) -> Bool {
        guard let session = sessions.withLock({ $0.end(pipe: pipe) }) else { return false }
        condition.lock()
        endedSessions.append(session)
        condition.signal()
        condition.unlock()
        return true
    }

    /// Counts episodes an evaluation-only session reported (kept out of the training curves).
    public func recordEvaluation(_ episodes: [EpisodeSummary]) {
        guard !episodes.isEmpty else { return }
        counters.withLock { stats in
            stats.evaluationEpisodes += episodes.count
            stats.lastEvaluationReturn = episodes.map(\.episodeReturn).reduce(0, +) / Double(episodes.count)
        }
    }

    /// The counters now.
    public func stats() -> SimulatorServerStats {
        var stats = counters.withLock { $0 }
        stats.sessions = sessions.withLock { $0.count }
        let (p50, p99) = latencies.withLock { ($0.quantile(0.5), $0.quantile(0.99)) }
        stats.latencyP50Ms = p50
        stats.latencyP99Ms = p99
        return stats
    }

    // MARK: - Requests (request handlers)

    /// Answers one ACTION_REQUEST that arrived on `pipe`; suspends until the server thread has.
    public func serve(_ request: ActionRequest, requestID: UInt32, pipe: UInt32) async -> Message {
        let received = ContinuousClock.now
        let type = MessageType.actionRequest.rawValue
        // A request of END rows only (a flush) says nothing about whether the session evaluates.
        let acts = request.events.contains { $0 != .end }
        guard let entry = sessions.withLock({ $0.session(onPipe: pipe, deterministic: acts ? request.deterministic : nil,
                                                          now: received) }) else {
            countError()
            return .error(ErrorReply(code: .notWelcome, failedType: type, text: "say HELLO as a simulator first"))
        }
        return await withCheckedContinuation { continuation in
            condition.lock()
            guard running && !stopped else {
                condition.unlock()
                continuation.resume(returning: Self.shuttingDown)
                return
            }
            guard incomingRows + request.count <= settings.maxQueuedRows else {
                condition.unlock()
                counters.withLock { $0.tryLater += 1 }
                continuation.resume(returning: .error(ErrorReply(
                    code: .tryLater, failedType: type, retryAfterMs: 20, text: "the server has too many rows waiting")))
                return
            }
            incoming.append(Job(request: request, requestID: requestID, entry: entry, pipe: pipe, received: received,
                                continuation: continuation))
            incomingRows += request.count
            condition.signal()
            condition.unlock()
        }
    }

    private func countError() {
        counters.withLock { $0.errors += 1 }
    }

    // MARK: - Server thread

    private func serveLoop() {
        var waiting: [Job] = []
        var lastEviction = ContinuousClock.now
        while true {
            condition.lock()
            // Requests that wait for room are retried every couple of milliseconds.
            let idle: TimeInterval = waiting.isEmpty ? 0.2 : 0.002
            if incoming.isEmpty && endedSessions.isEmpty && !stopped {
                _ = condition.wait(until: Date().addingTimeInterval(idle))
            }
            let fresh = incoming
            incoming = []
            incomingRows = 0
            let ended = endedSessions
            endedSessions = []
            let stopping = stopped
            condition.unlock()

            if stopping {
                for job in waiting + fresh { job.continuation.resume(returning: Self.shuttingDown) }
                return
            }
            for session in ended { episodes?.endSession(session) }
            let now = ContinuousClock.now
            if now - lastEviction >= .seconds(1) {
                lastEviction = now
                evict(now: now)
            }
            var jobs = waiting + fresh
            waiting = []
            guard !jobs.isEmpty else { continue }
            guard prepareState() else {
                for job in jobs { answer(job, .error(ErrorReply(
                    code: .tryLater, failedType: MessageType.actionRequest.rawValue, retryAfterMs: 200,
                    text: "the learner does not know its spaces yet"))) }
                continue
            }
            refreshWeights()
            var ready: [(Job, PreparedRequest)] = []
            for index in jobs.indices {
                switch admit(&jobs[index], now: ContinuousClock.now) {
                case .some(let prepared): ready.append((jobs[index], prepared))
                case .none where jobs[index].waitReply != nil: waiting.append(jobs[index])
                case .none: break
                }
            }
            if !ready.isEmpty { act(ready) }
        }
    }

    /// Builds the episodes and the inference agent once the spaces are known.
    private func prepareState() -> Bool {
        if episodes != nil && agent != nil { return true }
        guard let spaces = sink.agreedSpaces else { return false }
        if episodes == nil {
            episodes = SimulatorEpisodes(observationDimension: spaces.observationSize,
                                         actionDimension: spaces.actionSize, limits: settings.limits)
        }
        if agent == nil {
            do {
                agent = try makeAgent(spaces)
            } catch {
                log("simulators: could not build the inference policy: \(error)")
                return false
            }
        }
        return true
    }

    /// Loads a newer weights snapshot into the inference agent.
    private func refreshWeights() {
        guard let agent, let (version, tensors) = weights.snapshot(newerThan: heldVersion) else { return }
        do {
            try agent.loadPolicyTensors(tensors)
            heldVersion = version
            counters.withLock { $0.policyVersion = version }
        } catch {
            log("simulators: weights version \(version) do not fit the inference policy: \(error)")
        }
    }

    /// Applies one request through the sink; nil when it was answered (error) or must wait.
    private func admit(_ job: inout Job, now: ContinuousClock.Instant) -> PreparedRequest? {
        let type = MessageType.actionRequest.rawValue
        if now - job.received > settings.requestBudget {
            counters.withLock {
                $0.timeouts += 1
                $0.tryLater += 1
            }
            metrics?.recordActionRequestTimeout()
            let retry = job.waitReply?.retryAfterMs ?? 50
            job.waitReply = nil
            answer(job, .error(ErrorReply(code: .tryLater, failedType: type, retryAfterMs: max(retry, 5),
                                          text: "the request was not served within its "
                                              + "\(settings.requestBudget.milliseconds) ms budget; nothing was applied")))
            return nil
        }
        let request = job.request
        // Evaluation stays out of replay: deterministic requests, and a session's END-only flush
        // when every acting request of that session was deterministic.
        let endsOnly = !request.events.contains { $0 != .end }
        let store = !request.deterministic && !(endsOnly && job.entry.evaluationOnly)
        var bound = 0
        if store {
            for row in 0 ..< request.count where request.events[row] != .start { bound += 1 }
        }
        let session = job.entry.session
        let requestID = job.requestID
        do {
            let outcome = try sink.admit(upTo: bound, store: store, peer: job.entry.peer, actingVersion: heldVersion ?? 0) {
                () throws(SimulatorError) -> PreparedRequest in
                // Optional chaining mutates in place (a local copy would copy every episode).
                guard let prepared = try episodes?.handle(request: request, session: session, requestID: requestID,
                                                          now: now) else {
                    throw SimulatorError.tooManySessions(limit: settings.limits.maxSessions)
                }
                return prepared
            }
            switch outcome {
            case .prepared(let prepared, let receipt):
                job.waitReply = nil
                job.receipt = receipt
                if store { counters.withLock { $0.transitions += prepared.transitions.count } }
                return prepared
            case .wait(let reply):
                job.waitReply = reply
                return nil
            case .refuse(let reply):
                job.waitReply = nil
                answer(job, .error(reply))
                return nil
            }
        } catch {
            job.waitReply = nil
            countError()
            answer(job, .error(ErrorReply(code: error.code, failedType: type, text: error.description)))
            return nil
        }
    }

    /// One act call per kind of request (stochastic, deterministic), then every reply.
    private func act(_ ready: [(Job, PreparedRequest)]) {
        guard let agent, let actionSize = episodes?.actionDimension else {
            for (job, _) in ready {
                countError()
                answer(job, .error(ErrorReply(code: .internal, failedType: MessageType.actionRequest.rawValue,
                                              text: "the inference policy is not ready")))
            }
            return
        }
        var actions = [[Float]](repeating: [], count: ready.count)
        var values = [[Float]?](repeating: nil, count: ready.count)
        var calls = 0
        var rows = 0
        for deterministic in [false, true] {
            let members = ready.indices.filter { ready[$0].1.deterministic == deterministic && ready[$0].1.actingCount > 0 }
            guard !members.isEmpty else { continue }
            var observations: [Float] = []
            var count = 0
            for index in members {
                observations.append(contentsOf: ready[index].1.observations)
                count += ready[index].1.actingCount
            }
            let batch: [Float]
            if heldVersion.map({ $0 == 0 }) ?? true && !deterministic {
                // No trained policy yet: uniform exploration, as in the single-process warm-up.
                batch = (0 ..< count * actionSize).map { _ in rng.nextUniform(Float.self) * 2 - 1 }
            } else {
                batch = agent.act(observations: observations, count: count, deterministic: deterministic, rng: &rng)
                calls += 1
                rows += count
            }
            var offset = 0
            for index in members {
                let n = ready[index].1.actingCount
                actions[index] = batch[offset * actionSize ..< (offset + n) * actionSize].map { min(max($0, -1), 1) }
                if ready[index].1.wantValues && ready[index].0.entry.valuesGranted {
                    values[index] = agent.values(observations: ready[index].1.observations, count: n)
                }
                offset += n
            }
        }
        let version = heldVersion ?? 0
        var duplicates = 0
        for (index, (job, prepared)) in ready.enumerated() {
            guard let reply = episodes?.complete(prepared, actions: actions[index], values: values[index],
                                                 policyVersion: version) else { continue }
            if prepared.isDuplicate { duplicates += 1 }
            deliver(reply, to: job)
        }
        let totals = episodes?.counters ?? SimulatorCounters()
        let running = episodes?.episodeCount ?? 0
        counters.withLock { stats in
            stats.requests += ready.count
            stats.rows += ready.reduce(0) { $0 + $1.1.rowCount }
            stats.duplicates += duplicates
            stats.inferenceCalls += calls
            stats.inferenceRows += rows
            stats.runningEpisodes = running
            stats.episodesStarted = totals.episodesStarted
            stats.episodesEnded = totals.episodesEnded
            stats.episodesEvicted = totals.episodesEvicted
        }
    }

    private func evict(now: ContinuousClock.Instant) {
        let silent = sessions.withLock { $0.evict(olderThan: settings.peerTimeout, now: now) }
        guard episodes != nil else { return }
        for session in silent { episodes?.endSession(session) }
        let report = episodes?.evict(olderThan: settings.peerTimeout, now: now) ?? EvictionReport()
        if !silent.isEmpty || report.episodes > 0 {
            log("simulators: forgot \(silent.count) silent sessions and \(report.episodes) episodes")
        }
        let totals = episodes?.counters ?? SimulatorCounters()
        let running = episodes?.episodeCount ?? 0
        counters.withLock { stats in
            stats.runningEpisodes = running
            stats.episodesEvicted = totals.episodesEvicted
            // Silent sessions leave through endSession, which SimulatorEpisodes counts as episodes only.
            stats.sessionsEvicted += silent.count + report.sessions
        }
    }

    /// Sends a reply once its stored transitions are durable.
    ///
    /// If they could not be made durable the request is answered with the sink's error and the
    /// session ends: its episodes already moved on, so a resend must not be answered as a
    /// duplicate of a reply whose transitions were lost. The simulator says HELLO again.
    private func deliver(_ reply: ActionReply, to job: Job) {
        guard let receipt = job.receipt else { return answer(job, .actionReply(reply)) }
        receipt.whenDone { [self] failure in
            guard let failure else { return answer(job, .actionReply(reply)) }
            countError()
            goodbye(pipe: job.pipe)
            answer(job, .error(failure))
        }
    }

    private func answer(_ job: Job, _ message: Message) {
        let latency = ContinuousClock.now - job.received
        if case .actionReply = message {
            metrics?.recordActionRequest(latency: latency)
            latencies.withLock { $0.record(latency) }
        }
        job.continuation.resume(returning: message)
    }
}

/// The latest request latencies, for p50/p99 in the stats file.
struct LatencyWindow: Sendable {
    private var milliseconds: [Double] = []
    private var next = 0
    let capacity = 4096

    mutating func record(_ latency: Duration) {
        let value = Double(latency.components.seconds) * 1000 + Double(latency.components.attoseconds) * 1e-15
        if milliseconds.count < capacity {
            milliseconds.append(value)
        } else {
            milliseconds[next] = value
            next = (next + 1) % capacity
        }
    }

    func quantile(_ q: Double) -> Double? {
        guard !milliseconds.isEmpty else { return nil }
        let sorted = milliseconds.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]
    }
}

extension Duration {
    /// Whole milliseconds, for messages.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
