import Foundation
import Logging
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
    ///
    /// `evaluating`: the request comes from a simulator that owes the open evaluation round
    /// episodes (or carries their rows). Training waits for them, so the rate limiter must not
    /// hold the request: its training rows, at most what its running episodes have left before
    /// their next reset, go in beyond it.
    func admit(upTo count: Int, store: Bool, evaluating: Bool, peer: PeerKey, actingVersion: UInt64,
               prepare: () throws(SimulatorError) -> PreparedRequest) throws(SimulatorError) -> SimulatorAdmission
}

/// A reply of the simulator server and the extension records that go with it (EVALUATE).
public struct SimulatorReply: Sendable {
    public var message: Message
    public var extensions: [WireExtension] = []

    public init(_ message: Message, extensions: [WireExtension] = []) {
        self.message = message
        self.extensions = extensions
    }
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
/// `InferencePolicy` that loads each newer weights snapshot (`loadPolicyTensors`, as actors
/// do). The thread takes every queued request at once and answers them with one forward pass
/// (two when stochastic and deterministic requests are mixed), so concurrent simulators batch.
///
/// Backpressure: a request whose transitions do not fit the sink waits on the server (the
/// simulator's next step is simply later) and is answered ERROR TRY_LATER, with nothing
/// applied, once its `requestBudget` is spent; the queue of waiting rows is bounded too.
/// Waiting requests are tried again when the sink's owner says room may have opened
/// (`roomMayHaveChanged`: the learner's training thread drained its queue, a gateway's batch
/// was acknowledged) or a new request arrives; the thread otherwise sleeps until the oldest
/// one's budget ends.
/// Before the first update (policy version 0) stochastic requests get uniform random actions,
/// as an actor's and the single-process trainer's warm-up do.
// @unchecked: `condition` guards the queue fields; episodes, agent, heldVersion and rng are confined to the server thread.
public final class SimulatorServer: @unchecked Sendable {
    private struct Job {
        let request: ActionRequest
        let requestID: UInt32
        let entry: SimulatorSessions.Entry
        let pipe: UInt32
        let received: ContinuousClock.Instant
        let continuation: CheckedContinuation<SimulatorReply, Never>
        /// The request's EVALUATION_STARTS record.
        let starts: EvaluationStarts?
        var waitReply: ErrorReply?
        var receipt: StoreReceipt?
        /// Episodes of the request that are evaluation episodes (deterministic, not stored).
        var evaluation: Set<UInt64> = []
    }

    public let settings: SimulatorServerSettings
    private let sink: any SimulatorSink
    private let weights: any SimulatorWeightsSource
    /// The learner's evaluation rounds; nil where none are scheduled (a gateway).
    private let evaluator: SimulatorEvaluator?
    private let makeAgent: @Sendable (AgreedSpaces) throws -> any InferencePolicy
    private let logger = Logger(label: "meow.simulators")
    private let attachedMetrics = Mutex<LearnerMetrics?>(nil)
    private var metrics: LearnerMetrics? { attachedMetrics.withLock { $0 } }

    /// Pipe-to-session table, read and written by the request handlers.
    private let sessions: Mutex<SimulatorSessions>
    private let counters = Mutex(SimulatorServerStats())
    /// The latest request latencies in milliseconds, for p50/p99 in the stats file.
    private let latencies = Mutex(RingWindow<Double>(capacity: 4096))

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var incoming: [Job] = []
    private var incomingRows = 0
    private var endedSessions: [UInt64] = []
    /// Requests the thread holds that wait for room in the sink.
    private var waitingJobs = 0
    /// Set by `roomMayHaveChanged` while requests wait: the thread tries them again.
    private var roomChanged = false
    private var running = false
    private var stopped = false
    private var finished = false

    // Confined to the server thread.
    private var episodes: SimulatorEpisodes?
    private var agent: (any InferencePolicy)?
    private var heldVersion: UInt64?
    private var rng: Xoshiro256

    public init(settings: SimulatorServerSettings, sink: any SimulatorSink, weights: any SimulatorWeightsSource,
                metrics: LearnerMetrics?, evaluator: SimulatorEvaluator? = nil,
                makeAgent: @escaping @Sendable (AgreedSpaces) throws -> any InferencePolicy) {
        self.settings = settings
        self.sink = sink
        self.weights = weights
        self.evaluator = evaluator
        attachedMetrics.withLock { $0 = metrics }
        self.makeAgent = makeAgent
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
        for job in orphans { job.continuation.resume(returning: SimulatorReply(Self.shuttingDown)) }
    }

    /// Tells the server thread that the sink may have room now, so the requests that wait for
    /// it are tried again at once. Cheap when none waits.
    public func roomMayHaveChanged() {
        condition.lock()
        if waitingJobs > 0 {
            roomChanged = true
            condition.signal()
        }
        condition.unlock()
    }

    private static let shuttingDown = Message.error(ErrorReply(
        code: .shuttingDown, failedType: MessageType.actionRequest.rawValue, retryAfterMs: 1000,
        text: "the server is stopping"))

    // MARK: - Sessions (request handlers)

    /// Registers a simulator welcomed on `pipe`; nil when the server is full (answer REFUSED FULL).
    public func welcome(_ hello: Hello, pipe: UInt32, now: ContinuousClock.Instant = .now) -> SimulatorSessions.Entry? {
        let entry = sessions.withLock { $0.welcome(hello, pipe: pipe, now: now, evaluates: evaluator != nil) }
        if let entry, let evaluator {
            evaluator.withSchedule { schedule in
                if entry.evaluationGranted { schedule.add(session: entry.session) } else { schedule.remove(session: entry.session) }
            }
        }
        return entry
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
        evaluator?.withSchedule { $0.remove(session: session) }
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

    /// Answers one ACTION_REQUEST that arrived on `pipe` with the frame's extension records;
    /// suspends until the server thread has.
    public func serve(_ request: ActionRequest, requestID: UInt32, pipe: UInt32,
                      extensions: [WireExtension] = []) async -> SimulatorReply {
        let received = ContinuousClock.now
        let type = MessageType.actionRequest.rawValue
        let starts: EvaluationStarts?
        do {
            starts = try EvaluationStarts.find(in: extensions)
        } catch {
            countError()
            return SimulatorReply(.error(ErrorReply(error, failedType: type)))
        }
        // A request of END rows only (a flush) says nothing about whether the session evaluates.
        let acts = request.events.contains { $0 != .end }
        guard let entry = sessions.withLock({ $0.session(onPipe: pipe, deterministic: acts ? request.deterministic : nil,
                                                          now: received) }) else {
            countError()
            return SimulatorReply(.error(ErrorReply(code: .notWelcome, failedType: type,
                                                    text: "say HELLO as a simulator first")))
        }
        return await withCheckedContinuation { continuation in
            condition.lock()
            guard running && !stopped else {
                condition.unlock()
                continuation.resume(returning: SimulatorReply(Self.shuttingDown))
                return
            }
            guard incomingRows + request.count <= settings.maxQueuedRows else {
                condition.unlock()
                counters.withLock { $0.tryLater += 1 }
                continuation.resume(returning: SimulatorReply(.error(ErrorReply(
                    code: .tryLater, failedType: type, retryAfterMs: 20, text: "the server has too many rows waiting"))))
                return
            }
            incoming.append(Job(request: request, requestID: requestID, entry: entry, pipe: pipe, received: received,
                                continuation: continuation, starts: starts))
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
            waitingJobs = waiting.count
            if incoming.isEmpty && endedSessions.isEmpty && !stopped && !roomChanged {
                // Timed wait: the next eviction of silent peers, or the end of the oldest waiting
                // request's budget, whichever comes first; new requests and room wake it earlier.
                var wakeAt = lastEviction + Self.evictionPeriod
                if let oldest = waiting.map(\.received).min() { wakeAt = min(wakeAt, oldest + settings.requestBudget) }
                let seconds = max(0, (wakeAt - ContinuousClock.now).seconds)
                _ = condition.wait(until: Date().addingTimeInterval(seconds))
            }
            roomChanged = false
            let fresh = incoming
            incoming = []
            incomingRows = 0
            // Every request in hand may end up waiting: room that opens meanwhile is not missed.
            waitingJobs = waiting.count + fresh.count
            let ended = endedSessions
            endedSessions = []
            let stopping = stopped
            condition.unlock()

            if stopping {
                for job in waiting + fresh { job.continuation.resume(returning: SimulatorReply(Self.shuttingDown)) }
                return
            }
            for session in ended { episodes?.endSession(session) }
            // Known spaces and published weights are loaded before any request needs them (a
            // resumed run acts with its restored policy from the first request).
            if sink.agreedSpaces != nil && prepareState() { refreshWeights() }
            let now = ContinuousClock.now
            if now - lastEviction >= Self.evictionPeriod {
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

    /// How often the thread forgets silent sessions and episodes.
    private static let evictionPeriod: Duration = .seconds(1)

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
                logger.error("simulators: could not build the inference policy: \(error)")
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
            logger.error("simulators: weights version \(version) do not fit the inference policy: \(error)")
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
                                              + "\(Int(settings.requestBudget.milliseconds)) ms budget; nothing was applied")))
            return nil
        }
        let request = job.request
        // Evaluation stays out of replay: deterministic requests, and a session's END-only flush
        // when every acting request of that session was deterministic.
        let endsOnly = !request.events.contains { $0 != .end }
        let store = !request.deterministic && !(endsOnly && job.entry.evaluationOnly)
        let session = job.entry.session
        // Evaluation episodes (PROTOCOL.md 5.15): those this request starts, and those running.
        var evaluation = Set<UInt64>()
        var starts: [(episode: UInt64, seed: UInt64)] = []
        // The session owes the open round episodes: training waits for it, so the rate limiter must
        // not hold its requests either (its running episodes must reach their next reset).
        var owesRound = false
        if let evaluator, job.entry.evaluationGranted {
            if let record = job.starts {
                for (row, id) in request.episodeIDs.enumerated() where request.events[row] == .start {
                    if let index = record.episodeIDs.firstIndex(of: id) { starts.append((id, record.seeds[index])) }
                }
            }
            (evaluation, owesRound) = evaluator.withSchedule { schedule in
                let running = Set(request.episodeIDs.filter { schedule.isEvaluating(session: session, episode: $0) })
                return (running, !schedule.assignment(for: session).isEmpty || schedule.isRunningRound(session: session))
            }
            evaluation.formUnion(starts.map(\.episode))
        }
        job.evaluation = evaluation
        var bound = 0
        if store {
            for row in 0 ..< request.count where request.events[row] != .start
                && !evaluation.contains(request.episodeIDs[row]) { bound += 1 }
        }
        let requestID = job.requestID
        let unstored = evaluation
        do {
            let outcome = try sink.admit(upTo: bound, store: store, evaluating: owesRound || !evaluation.isEmpty,
                                         peer: job.entry.peer,
                                         actingVersion: heldVersion ?? 0) {
                () throws(SimulatorError) -> PreparedRequest in
                // Optional chaining mutates in place (a local copy would copy every episode).
                guard let prepared = try episodes?.handle(request: request, session: session, requestID: requestID,
                                                          now: now, unstored: unstored) else {
                    throw SimulatorError.tooManySessions(limit: settings.limits.maxSessions)
                }
                return prepared
            }
            switch outcome {
            case .prepared(let prepared, let receipt):
                job.waitReply = nil
                job.receipt = receipt
                if store { counters.withLock { $0.transitions += prepared.transitions.count } }
                if let evaluator, !evaluation.isEmpty, !prepared.isDuplicate {
                    record(prepared, starts: starts, evaluation: evaluation, in: evaluator)
                }
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

    /// Applies a request's evaluation starts and ends to the schedule.
    private func record(_ prepared: PreparedRequest, starts: [(episode: UInt64, seed: UInt64)],
                        evaluation: Set<UInt64>, in evaluator: SimulatorEvaluator) {
        let session = prepared.session
        var finished: [(Int, Double)] = []
        evaluator.withSchedule { schedule in
            for (episode, seed) in starts where !schedule.isEvaluating(session: session, episode: episode) {
                _ = schedule.start(session: session, episode: episode, seed: seed)
            }
            for ended in prepared.endedEpisodes where evaluation.contains(ended.episodeID) {
                let done = !ended.doneFlags.isEmpty
                if done && schedule.isRecorded(session: session, episode: ended.episodeID) {
                    finished.append((ended.length, ended.episodeReturn))
                }
                schedule.end(session: session, episode: ended.episodeID, episodeReturn: ended.episodeReturn,
                             length: ended.length, finished: done)
            }
        }
        guard !finished.isEmpty else { return }
        counters.withLock { stats in
            stats.evaluationEpisodes += finished.count
            stats.lastEvaluationReturn = finished.last?.1
        }
    }

    /// One act call per kind of row (stochastic, deterministic), then every reply.
    private func act(_ ready: [(Job, PreparedRequest)]) {
        guard let agent, let actionSize = episodes?.actionDimension else {
            for (job, _) in ready {
                countError()
                answer(job, .error(ErrorReply(code: .internal, failedType: MessageType.actionRequest.rawValue,
                                              text: "the inference policy is not ready")))
            }
            return
        }
        var actions = ready.map { [Float](repeating: 0, count: $0.1.actingCount * actionSize) }
        var values = [[Float]?](repeating: nil, count: ready.count)
        var calls = 0
        var rows = 0
        let width = episodes?.observationDimension ?? 0
        // Evaluation episodes act deterministically whatever their request asked.
        let deterministicRows = ready.map { job, prepared in
            prepared.actingEpisodeIDs.map { prepared.deterministic || job.evaluation.contains($0) }
        }
        for deterministic in [false, true] {
            var members: [(index: Int, row: Int)] = []
            for index in ready.indices {
                for k in 0 ..< ready[index].1.actingCount where deterministicRows[index][k] == deterministic {
                    members.append((index, k))
                }
            }
            guard !members.isEmpty else { continue }
            var observations: [Float] = []
            observations.reserveCapacity(members.count * width)
            for (index, k) in members {
                observations.append(contentsOf: ready[index].1.observations[k * width ..< (k + 1) * width])
            }
            let count = members.count
            let batch: [Float]
            if heldVersion.map({ $0 == 0 }) ?? true && !deterministic {
                // No trained policy yet: uniform exploration, as in the single-process warm-up.
                batch = (0 ..< count * actionSize).map { _ in rng.nextUniform(Float.self) * 2 - 1 }
            } else {
                batch = agent.act(observations: observations, count: count, deterministic: deterministic, rng: &rng)
                calls += 1
                rows += count
            }
            for (offset, (index, k)) in members.enumerated() {
                for j in 0 ..< actionSize {
                    actions[index][k * actionSize + j] = min(max(batch[offset * actionSize + j], -1), 1)
                }
            }
        }
        for index in ready.indices where ready[index].1.wantValues && ready[index].0.entry.valuesGranted
            && ready[index].1.actingCount > 0 {
            values[index] = agent.values(observations: ready[index].1.observations, count: ready[index].1.actingCount)
        }
        let version = heldVersion ?? 0
        var duplicates = 0
        var replies: [(ActionReply, Job)] = []
        for (index, (job, prepared)) in ready.enumerated() {
            guard let reply = episodes?.complete(prepared, actions: actions[index], values: values[index],
                                                 policyVersion: version) else { continue }
            if prepared.isDuplicate { duplicates += 1 }
            replies.append((reply, job))
        }
        // The counters include these requests before anyone hears back about them.
        defer { for (reply, job) in replies { deliver(reply, to: job) } }
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
        if let evaluator, !silent.isEmpty {
            evaluator.withSchedule { schedule in for session in silent { schedule.remove(session: session) } }
        }
        guard episodes != nil else { return }
        for session in silent { episodes?.endSession(session) }
        let report = episodes?.evict(olderThan: settings.peerTimeout, now: now) ?? EvictionReport()
        if !silent.isEmpty || report.episodes > 0 {
            logger.info("simulators: forgot \(silent.count) silent sessions and \(report.episodes) episodes")
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
        // A session that evaluates is told the seeds it holds in every reply until it starts them,
        // so a lost reply loses no seed (the simulator ignores seeds it already holds).
        var records: [WireExtension] = []
        if let evaluator, job.entry.evaluationGranted {
            let seeds = evaluator.withSchedule { $0.assignment(for: job.entry.session) }
            if !seeds.isEmpty, let record = try? EvaluationAssignment(seeds: seeds).record() { records = [record] }
        }
        let extensions = records
        guard let receipt = job.receipt else { return answer(job, .actionReply(reply), extensions: extensions) }
        receipt.whenDone { [self] failure in
            guard let failure else { return answer(job, .actionReply(reply), extensions: extensions) }
            countError()
            goodbye(pipe: job.pipe)
            answer(job, .error(failure))
        }
    }

    private func answer(_ job: Job, _ message: Message, extensions: [WireExtension] = []) {
        let latency = ContinuousClock.now - job.received
        if case .actionReply = message {
            metrics?.recordActionRequest(latency: latency)
            latencies.withLock { $0.recordMilliseconds(of: latency) }
        }
        job.continuation.resume(returning: SimulatorReply(message, extensions: extensions))
    }
}
