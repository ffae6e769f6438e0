import Replay
import Simulators
import Telemetry
import Wire

/// A welcomed peer, forgotten when it stays silent for the peer timeout.
public struct PeerRecord: Sendable, Equatable {
    public let key: PeerKey
    public let role: Role
    public var lastSeen: ContinuousClock.Instant
    /// The policy version the peer last said it acts with (HEARTBEAT or TRANSITIONS).
    public var actingVersion: UInt64 = 0
    /// Environment steps the peer reported in its last HEARTBEAT.
    public var reportedEnvSteps: UInt64 = 0
    /// Transitions waiting in the peer's outbox at its last HEARTBEAT.
    public var reportedQueueLength: UInt32 = 0
}

/// Lifetime counters of one actor id; they outlive its peer records (and, in checkpoints, the learner).
public struct ActorTally: Sendable, Equatable, Codable {
    /// Transitions accepted (stored or queued for replay).
    public var transitions = 0
    public var batches = 0
    /// Resent batches answered DUPLICATE.
    public var duplicates = 0
    /// Batches answered TRY_LATER.
    public var tryLater = 0
    /// Batches dropped because their policy was older than --max-staleness allows.
    public var staleDropped = 0
    public var episodes = 0
    public var lastReturn: Double?
    /// Policy version of the last accepted batch.
    public var lastBatchVersion: UInt64 = 0
    /// Runs (process starts) this actor id has said HELLO with. A count, not the ids: a run id
    /// names a run in dedupe, so it is not written where others read.
    public var runs = 0

    public init() {}

    private enum CodingKeys: String, CodingKey {
        case transitions, batches, duplicates, tryLater, staleDropped, episodes, lastReturn, lastBatchVersion, runs
        /// Checkpoints written before `runs` kept the ids themselves.
        case runIDs
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        transitions = try c.decode(Int.self, forKey: .transitions)
        batches = try c.decode(Int.self, forKey: .batches)
        duplicates = try c.decode(Int.self, forKey: .duplicates)
        tryLater = try c.decode(Int.self, forKey: .tryLater)
        staleDropped = try c.decode(Int.self, forKey: .staleDropped)
        episodes = try c.decode(Int.self, forKey: .episodes)
        lastReturn = try c.decodeIfPresent(Double.self, forKey: .lastReturn)
        lastBatchVersion = try c.decode(UInt64.self, forKey: .lastBatchVersion)
        runs = try c.decodeIfPresent(Int.self, forKey: .runs)
            ?? c.decodeIfPresent([UInt64].self, forKey: .runIDs)?.count ?? 0
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(transitions, forKey: .transitions)
        try c.encode(batches, forKey: .batches)
        try c.encode(duplicates, forKey: .duplicates)
        try c.encode(tryLater, forKey: .tryLater)
        try c.encode(staleDropped, forKey: .staleDropped)
        try c.encode(episodes, forKey: .episodes)
        try c.encodeIfPresent(lastReturn, forKey: .lastReturn)
        try c.encode(lastBatchVersion, forKey: .lastBatchVersion)
        try c.encode(runs, forKey: .runs)
    }
}

/// The ledger's fixed settings, derived from `LearnerConfiguration`.
public struct IngestSettings: Sendable {
    public var token: [UInt8]?
    public var maxActors: Int
    public var maxStaleness: Int?
    /// Most transitions waiting for the training thread.
    public var queueCapacity: Int
    public var maxBatch: Int
    /// Stop accepting transitions after this many (the run's env steps); nil: never.
    public var totalSteps: Int?
    /// Replay batch size (items per sample) for the rate limiter's sample side.
    public var batchSize: Int
    /// The WELCOME fields that do not change during a run.
    public var welcome: Welcome
    /// How long a run's dedupe marks outlive its last session (PROTOCOL.md 5.8, "Resend horizon").
    public var resendHorizon: Duration
    /// Optional bounds on observation and reward magnitudes.
    public var magnitudes: MagnitudeLimits

    public init(token: [UInt8]?, maxActors: Int, maxStaleness: Int?, queueCapacity: Int, maxBatch: Int,
                totalSteps: Int?, batchSize: Int, welcome: Welcome, resendHorizon: Duration = .seconds(600),
                magnitudes: MagnitudeLimits = MagnitudeLimits()) {
        self.resendHorizon = resendHorizon
        self.magnitudes = magnitudes
        self.token = token
        self.maxActors = maxActors
        self.maxStaleness = maxStaleness
        self.queueCapacity = queueCapacity
        self.maxBatch = maxBatch
        self.totalSteps = totalSteps
        self.batchSize = batchSize
        self.welcome = welcome
    }
}

/// Why the learner no longer takes transitions.
public enum ShutdownMode: Sendable, Equatable {
    /// Serving normally.
    case running
    /// Stopping on a signal; peers should retry later (a restarted learner may take over).
    case stopping
    /// The run reached its step budget; peers should stop (REFUSED/ERROR with retry 0).
    case finished
}

/// When a run was last heard from, for pruning its dedupe marks.
struct RunActivity: Sendable {
    var last: ContinuousClock.Instant
    /// It said GOODBYE, or a newer run of its actor id said HELLO: nothing more can come from it.
    var ended: Bool
    var order: Int
}

/// What a TRANSITIONS request did to the ledger.
public enum IngestOutcome: Sendable, Equatable {
    /// Stored (queued for replay).
    case stored
    /// Accepted but dropped for staleness.
    case droppedStale
    /// Not taken: duplicate, backpressure, or an error reply.
    case none
}

/// One (peer, seq) pair.
struct PeerSeq: Hashable, Sendable {
    var key: PeerKey
    var seq: UInt64
}

/// A batch admitted by the ledger that the write-ahead log must hold before it is acknowledged.
public struct PendingIngest: Sendable {
    public let batch: Wire.TransitionBatch
    /// `.stored`, or `.droppedStale` (acknowledged, logged as a mark only).
    public let outcome: IngestOutcome
    let lag: UInt64

    /// What the log keeps of it.
    public var record: LogRecord {
        outcome == .stored
            ? .batch(batch, marked: true)
            : .mark(PeerKey(actorID: batch.actorID, runID: batch.runID), seq: batch.seq)
    }
}

/// What `IngestLedger.admit` decided.
public enum IngestAdmission: Sendable {
    /// Answer now (DUPLICATE, TRY_LATER, an error): nothing to log.
    case reply(Message)
    /// Log it, then `commit`.
    case log(PendingIngest)
}

/// Everything the request handlers and the training thread share, as one value.
///
/// The learner keeps one ledger behind one lock: handlers apply requests to it and the
/// training thread drains its queue and reserves samples from its rate limiter. Being a
/// plain value with the clock passed in, every rule here (dedupe, staleness, space
/// checks, backpressure, liveness) is testable without threads or sockets.
public struct IngestLedger: Sendable {
    public let settings: IngestSettings
    public let spec: EnvironmentSpec
    /// Random per learner start; a change tells actors the learner restarted.
    public let learnerRunID: UInt64

    /// The spaces every peer must share; nil for a preset until the first actor's HELLO.
    public private(set) var spaces: AgreedSpaces?
    /// The env id WELCOME names (a preset adopts the first actor's).
    public private(set) var envID: String
    public private(set) var limiter: RateLimiter
    public private(set) var peers: [PeerKey: PeerRecord] = [:]
    public private(set) var tallies: [UInt32: ActorTally] = [:]
    /// Who said HELLO on which connection; every request but HELLO is checked against it.
    public private(set) var sessions = PeerSessions()
    private var windows: [PeerKey: SequenceWindow] = [:]
    /// When each run in `windows` was last heard from, or said GOODBYE (`ended`), for pruning.
    private var runActivity: [PeerKey: RunActivity] = [:]
    /// Orders runs heard from at the same instant (the write-ahead log's, read back at start).
    private var activityCounter = 0
    /// Runs whose dedupe marks were dropped (after GOODBYE or the resend horizon).
    public private(set) var prunedRuns = 0
    /// Batches admitted and waiting for the write-ahead log; a copy that arrives meanwhile waits too.
    private var inFlight: Set<PeerSeq> = []

    /// Batches accepted by the handlers and not yet inserted by the training thread.
    private var queue: [Wire.TransitionBatch] = []
    public private(set) var queuedTransitions = 0
    /// Transitions accepted so far (stored or queued): the run's environment steps.
    public private(set) var acceptedTransitions = 0
    public private(set) var shutdown = ShutdownMode.running
    /// A stop was requested (signal): the training thread ends after its current update,
    /// even when the step budget already closed ingest.
    public private(set) var stopRequested = false

    // Published by the training thread.
    public var policyVersion: UInt64 = 0
    public var updates = 0
    public var skippedUpdates = 0
    public var replaySize = 0
    /// Seconds per update (moving average), to tell actors how long to back off.
    public var secondsPerUpdate = 0.0

    /// Policy lag of recent accepted batches.
    public private(set) var staleness = StalenessWindow()
    public private(set) var recentReturns: [Double] = []
    /// Finished episodes not yet written to metrics, with the env step they arrived at.
    private var pendingEpisodes: [(step: Int, summary: EpisodeSummary)] = []

    public private(set) var tryLaterReplies = 0
    public private(set) var duplicateReplies = 0
    public private(set) var staleDrops = 0
    public private(set) var spaceMismatches = 0
    public private(set) var refusals: [ErrorCode: Int] = [:]
    /// Batches (actors' and simulators') answered TRY_LATER because the write-ahead log failed.
    public private(set) var logFailures = 0
    /// Acknowledged transitions that never reached replay, by reason.
    public private(set) var droppedTransitions: [String: Int] = [:]
    /// Total time the ingest gate stayed closed (TRY_LATER answered, no batch accepted since).
    public private(set) var insertBlocked: Duration = .zero
    private var gateClosedSince: ContinuousClock.Instant?
    /// Peers turned away with TRY_LATER since the limiter last admitted a batch: each is told to
    /// wait behind the ones before it, so waiting peers come back spread out instead of together.
    private var throttled: Set<PeerKey> = []

    public init(settings: IngestSettings, spec: EnvironmentSpec, limiter: RateLimiter, learnerRunID: UInt64) {
        self.settings = settings
        self.spec = spec
        self.limiter = limiter
        self.learnerRunID = learnerRunID
        self.spaces = spec.spaces
        self.envID = spec.envID
    }

    /// Runs whose dedupe marks the ledger holds now.
    public var trackedRuns: Int { windows.count }

    /// Live peers with the actor role.
    public var liveActors: Int { peers.values.filter { $0.role == .actor }.count }

    // MARK: - HELLO

    /// The version and token checks every HELLO passes, shared with a gateway's.
    public var admission: HelloAdmission { HelloAdmission(server: "learner", token: settings.token) }

    /// Welcomes or refuses a peer (PROTOCOL.md 5.1 to 5.3).
    public mutating func hello(_ hello: Hello, now: ContinuousClock.Instant) -> Message {
        if let retry = shutdownRetry {
            return refuse(.shuttingDown, retry: retry, shutdownText)
        }
        if let refused = admission.check(hello) {
            return refuse(refused.code, retry: refused.retryAfterMs, refused.text)
        }
        let key = PeerKey(actorID: hello.actorID, runID: hello.runID)
        // Simulators share the actors' spaces: both feed the same replay (SimulatorServer.swift).
        if hello.role == .actor || hello.role == .simulator, let reason = spaceMismatch(hello) {
            spaceMismatches += 1
            return refuse(.spaceMismatch, retry: 0, reason)
        }
        if hello.role == .simulator, spaces == nil {
            spaces = AgreedSpaces(observation: hello.observationSpace, action: hello.actionSpace)
            if !hello.envID.isEmpty { envID = hello.envID }
        }
        if hello.role == .actor {
            let others = peers.values.filter { $0.role == .actor && $0.key.actorID != hello.actorID }
            if others.count >= settings.maxActors {
                return refuse(.full, retry: 1000, "the learner serves its maximum of \(settings.maxActors) actors")
            }
            // A new run of the same actor id replaces the old process, which is gone or a stray copy.
            // Its runs can send nothing more, so their dedupe marks go at once.
            for old in peers.keys where old.actorID == hello.actorID && old != key && peers[old]?.role == .actor {
                peers[old] = nil
                sessions.end(key: old)
            }
            for old in runActivity.keys where old.actorID == hello.actorID && old != key {
                runActivity[old]?.ended = true
            }
            if spaces == nil {
                spaces = AgreedSpaces(observation: hello.observationSpace, action: hello.actionSpace)
                if !hello.envID.isEmpty { envID = hello.envID }
            }
            if windows[key] == nil { tallies[hello.actorID, default: ActorTally()].runs += 1 }
            if windows[key] == nil { windows[key] = SequenceWindow() }
            noteActivity(key, now: now)
        }
        let previous = peers[key]
        peers[key] = PeerRecord(key: key, role: hello.role, lastSeen: now,
                                actingVersion: previous?.actingVersion ?? 0)
        pruneRuns(now: now)
        var welcome = settings.welcome
        welcome.learnerRunID = learnerRunID
        welcome.policyVersion = policyVersion
        welcome.envID = envID
        return .welcome(welcome)
    }

    // MARK: - Sessions (PROTOCOL.md 3.1)

    /// Opens the session of a HELLO this ledger welcomed on `pipe`; a HELLO on a pipe that had a
    /// session replaces it.
    public mutating func openSession(_ hello: Hello, pipe: UInt32, now: ContinuousClock.Instant) {
        let key = PeerKey(actorID: hello.actorID, runID: hello.runID)
        if let replaced = sessions.open(PeerSession(role: hello.role, key: key), onPipe: pipe), replaced.key != key {
            release(replaced, goodbye: false, now: now)
        }
    }

    /// Ends the session on `pipe`: a GOODBYE (`goodbye`), or the connection closed.
    ///
    /// The peer's slot is free at once. After GOODBYE the run's dedupe marks go too (the peer
    /// sends GOODBYE only once every batch is acknowledged); after a closed connection they stay
    /// for the resend horizon, because REQ resends on the next connection.
    @discardableResult
    public mutating func endSession(pipe: UInt32, goodbye: Bool, now: ContinuousClock.Instant) -> PeerSession? {
        guard let session = sessions.end(pipe: pipe) else { return nil }
        release(session, goodbye: goodbye, now: now)
        return session
    }

    /// Forgets an ended session's peer unless another connection still claims its ids.
    private mutating func release(_ session: PeerSession, goodbye: Bool, now: ContinuousClock.Instant) {
        guard !sessions.isLive(session.key) else { return }
        peers[session.key] = nil
        if runActivity[session.key] != nil { noteActivity(session.key, now: now, ended: goodbye) }
        pruneRuns(now: now)
    }

    /// Drops the dedupe marks of runs without a session that said GOODBYE or have been silent for
    /// the resend horizon. A run with a live session or a batch on its way to disk is kept.
    mutating func pruneRuns(now: ContinuousClock.Instant) {
        let horizon = settings.resendHorizon
        let busy = Set(inFlight.map(\.key))
        let expired = runActivity.filter { key, activity in
            (activity.ended || now - activity.last > horizon) && peers[key] == nil
                && !sessions.isLive(key) && !busy.contains(key)
        }.map(\.key)
        for key in expired {
            windows[key] = nil
            runActivity[key] = nil
        }
        prunedRuns += expired.count
        // Runs without a session are also capped in number, oldest first, so HELLOs with ever new
        // ids from peers that then go away cannot grow the ledger within the horizon either.
        let dormant = runActivity.filter { key, _ in peers[key] == nil && !sessions.isLive(key) && !busy.contains(key) }
        let excess = dormant.count - maxDormantRuns
        guard excess > 0 else { return }
        for (key, _) in dormant.sorted(by: { ($0.value.last, $0.value.order) < ($1.value.last, $1.value.order) })
            .prefix(excess) {
            windows[key] = nil
            runActivity[key] = nil
        }
        prunedRuns += excess
    }

    private mutating func noteActivity(_ key: PeerKey, now: ContinuousClock.Instant, ended: Bool = false) {
        activityCounter += 1
        runActivity[key] = RunActivity(last: now, ended: ended, order: activityCounter)
    }

    /// Most runs without a session whose marks are kept (PROTOCOL.md 5.8, "Resend horizon").
    var maxDormantRuns: Int { max(64, 4 * settings.maxActors) }

    private func spaceMismatch(_ hello: Hello) -> String? {
        if !spec.envIDMatches(hello.envID, learnerEnvID: envID) {
            return "hello.env_id is \(hello.envID); this learner trains on \(envID) (preset \(spec.name))"
        }
        if let spaces { return spaces.mismatch(observation: hello.observationSpace, action: hello.actionSpace) }
        return spec.presetMismatch(observation: hello.observationSpace, action: hello.actionSpace)
    }

    private mutating func refuse(_ code: ErrorCode, retry: UInt32, _ text: String) -> Message {
        refusals[code, default: 0] += 1
        return .refused(Refused(code: code, retryAfterMs: retry, text: text))
    }

    /// The sentence that goes with `shutdownRetry`: retry 0 is the one "run is over" signal.
    private var shutdownText: String {
        shutdown == .finished
            ? "the run is over: the learner's step budget is spent; stop collecting"
            : "the learner is shutting down; say HELLO again after retry_after_ms"
    }

    /// nil while running; otherwise the retry_after_ms that tells a peer whether to come back.
    private var shutdownRetry: UInt32? {
        switch shutdown {
        case .running: nil
        case .stopping: 1000
        case .finished: 0
        }
    }

    // MARK: - TRANSITIONS

    /// Validates, dedupes, admits and commits one batch at once (no write-ahead log between).
    public mutating func transitions(_ batch: Wire.TransitionBatch, now: ContinuousClock.Instant)
        -> (reply: Message, outcome: IngestOutcome) {
        switch admit(batch, now: now) {
        case .reply(let reply): return (reply, .none)
        case .log(let pending): return (commit(pending, .success(0), now: now), pending.outcome)
        }
    }

    /// Validates, dedupes and admits one batch: a reply now, or a batch the log must hold first.
    ///
    /// An admitted batch holds its room in the queue and counts toward the step budget, but it
    /// reaches the training thread, and its sequence number the dedupe window, only in `commit`,
    /// once the write-ahead log has it on disk: a batch that never became durable is never
    /// stored nor answered DUPLICATE.
    public mutating func admit(_ batch: Wire.TransitionBatch, now: ContinuousClock.Instant) -> IngestAdmission {
        let type = MessageType.transitions.rawValue
        if let retry = shutdownRetry {
            return .reply(.error(ErrorReply(code: .shuttingDown, failedType: type, retryAfterMs: retry,
                                            text: shutdownText)))
        }
        let key = PeerKey(actorID: batch.actorID, runID: batch.runID)
        guard let peer = peers[key] else {
            return .reply(.error(ErrorReply(code: .notWelcome, failedType: type, text: "say HELLO first")))
        }
        guard peer.role == .actor else {
            return .reply(.error(ErrorReply(code: .unexpectedMessage, failedType: type,
                                            text: "only actors send TRANSITIONS")))
        }
        peers[key]?.lastSeen = now
        noteActivity(key, now: now)
        if let spaces, batch.observationSize != spaces.observationSize || batch.actionSize != spaces.actionSize {
            spaceMismatches += 1
            let text = "transitions.obs_dim is \(batch.observationSize) and action_dim \(batch.actionSize); "
                + "the agreed spaces have \(spaces.observationSize) and \(spaces.actionSize) elements"
            return .reply(.error(ErrorReply(code: .spaceMismatch, failedType: type, text: text)))
        }
        if let violation = settings.magnitudes.violation(in: batch) {
            return .reply(.error(violation))
        }
        if batch.count > settings.maxBatch {
            let text = "transitions.count is \(batch.count); this learner takes at most \(settings.maxBatch)"
            return .reply(.error(ErrorReply(code: .lengthOverLimit, failedType: type, text: text)))
        }
        if windows[key, default: SequenceWindow()].contains(batch.seq) {
            duplicateReplies += 1
            tallies[batch.actorID, default: ActorTally()].duplicates += 1
            return .reply(ack(batch.seq, .duplicate))
        }
        let mark = PeerSeq(key: key, seq: batch.seq)
        if inFlight.contains(mark) {
            // A resend of a batch still on its way to disk: its fate is not known yet.
            tryLaterReplies += 1
            tallies[batch.actorID, default: ActorTally()].tryLater += 1
            return .reply(ack(batch.seq, .tryLater, retry: 20))
        }
        let lag = policyVersion >= batch.policyVersion ? policyVersion - batch.policyVersion : 0
        if let maxStaleness = settings.maxStaleness, lag > UInt64(maxStaleness) {
            inFlight.insert(mark)
            return .log(PendingIngest(batch: batch, outcome: .droppedStale, lag: lag))
        }
        let n = batch.count
        if n > 0 && (queuedTransitions + n > settings.queueCapacity || !limiter.canInsert(queuedTransitions + n)) {
            tryLaterReplies += 1
            tallies[batch.actorID, default: ActorTally()].tryLater += 1
            if gateClosedSince == nil { gateClosedSince = now }
            throttled.insert(key)
            return .reply(ack(batch.seq, .tryLater, retry: retryAfterMs(inserting: n, behind: throttled.count - 1)))
        }
        if let closed = gateClosedSince {
            insertBlocked += now - closed
            gateClosedSince = nil
            throttled.removeAll(keepingCapacity: true)
        }
        inFlight.insert(mark)
        reserve(n)
        return .log(PendingIngest(batch: batch, outcome: .stored, lag: lag))
    }

    /// Finishes an admitted batch once the log says whether it is durable; returns its reply.
    ///
    /// Durable: it joins the queue (in log order, so replay's order is the log's) and its
    /// sequence number the window, and is acknowledged. Not durable: its room is given back and
    /// the actor is told TRY_LATER, so it keeps the batch and sends it again.
    public mutating func commit(_ pending: PendingIngest, _ durable: Result<UInt64, WriteAheadLogError>,
                                now: ContinuousClock.Instant) -> Message {
        let batch = pending.batch
        let key = PeerKey(actorID: batch.actorID, runID: batch.runID)
        inFlight.remove(PeerSeq(key: key, seq: batch.seq))
        if case .failure(let error) = durable {
            if pending.outcome == .stored { release(batch.count) }
            logFailures += 1
            tryLaterReplies += 1
            tallies[batch.actorID, default: ActorTally()].tryLater += 1
            return .error(ErrorReply(code: .tryLater, failedType: MessageType.transitions.rawValue, retryAfterMs: 1000,
                                     text: "the learner could not make the batch durable (\(error)); it was not "
                                        + "stored, send it again"))
        }
        windows[key, default: SequenceWindow()].insert(batch.seq)
        if runActivity[key] == nil { noteActivity(key, now: now) }
        if pending.outcome == .droppedStale {
            staleDrops += 1
            tallies[batch.actorID, default: ActorTally()].staleDropped += 1
            return ack(batch.seq, .accepted)
        }
        if batch.count > 0 { queue.append(batch) }
        staleness.record(batch, learnerVersion: policyVersion)
        if let acting = peers[key]?.actingVersion { peers[key]?.actingVersion = max(acting, batch.policyVersion) }
        var tally = tallies[batch.actorID, default: ActorTally()]
        tally.transitions += batch.count
        tally.batches += 1
        tally.lastBatchVersion = batch.policyVersion
        tallies[batch.actorID] = tally
        return ack(batch.seq, .accepted)
    }

    /// Holds room for `n` admitted transitions; a run whose budget they reach is finished.
    private mutating func reserve(_ n: Int) {
        queuedTransitions += n
        acceptedTransitions += n
        if let total = settings.totalSteps, acceptedTransitions >= total { shutdown = .finished }
    }

    /// Gives back the room of `n` transitions the log could not keep.
    private mutating func release(_ n: Int) {
        queuedTransitions -= n
        acceptedTransitions -= n
        if shutdown == .finished, let total = settings.totalSteps, acceptedTransitions < total { shutdown = .running }
    }

    private func ack(_ seq: UInt64, _ status: TransitionsStatus, retry: UInt32 = 0) -> Message {
        .transitionsAck(TransitionsAck(seq: seq, policyVersion: policyVersion, retryAfterMs: retry, status: status))
    }

    /// How long until the learner has sampled enough to take `n` more transitions.
    ///
    /// The limiter admits the batch once D = inserts × spi − samples has fallen by the
    /// excess; the training thread removes `batchSize` sampled items per update, so the
    /// wait is (excess / batch size) updates. `behind` other peers were turned away before this
    /// one since the limiter last admitted a batch; their batches (assumed the size of this one)
    /// go first. Clamped to [5 ms, 1 s] so a cold estimate neither spins nor stalls an actor.
    func retryAfterMs(inserting n: Int, behind: Int = 0) -> UInt32 {
        let pending = Double(limiter.inserts + queuedTransitions + n * (1 + max(0, behind))) * limiter.samplesPerInsert
        let excess = max(0, pending - Double(limiter.samples) - limiter.maxDiff)
        let updates = (excess / Double(max(1, settings.batchSize))).rounded(.up)
        let seconds = updates * max(secondsPerUpdate, 0.001)
        return UInt32(min(1000, max(5, (seconds * 1000).rounded(.up))))
    }

    /// Marks a batch as seen without storing it: used to read back the write-ahead log of an
    /// earlier learner session, so batches it acknowledged stay duplicates after a restart.
    public mutating func recordSeen(_ key: PeerKey, seq: UInt64, now: ContinuousClock.Instant = .now) {
        windows[key, default: SequenceWindow()].insert(seq)
        noteActivity(key, now: now)
    }

    /// Whether `seq` of `key` has been accepted (or read back from the write-ahead log).
    public func hasSeen(_ key: PeerKey, seq: UInt64) -> Bool {
        windows[key]?.contains(seq) ?? false
    }

    // MARK: - Simulator transitions (built by SimulatorServer from ACTION_REQUEST rows)

    /// Whether `count` more transitions fit the ingest queue and the rate limiter now.
    ///
    /// nil when they fit; otherwise the reply that tells the simulator to wait (TRY_LATER with
    /// the limiter's estimate) or to stop (SHUTTING_DOWN). Counted like an actor's TRY_LATER.
    public mutating func simulatorAdmission(_ count: Int, now: ContinuousClock.Instant) -> ErrorReply? {
        let type = MessageType.actionRequest.rawValue
        if let retry = shutdownRetry {
            return ErrorReply(code: .shuttingDown, failedType: type, retryAfterMs: retry, text: shutdownText)
        }
        guard count > 0 else { return nil }
        if queuedTransitions + count > settings.queueCapacity || !limiter.canInsert(queuedTransitions + count) {
            if gateClosedSince == nil { gateClosedSince = now }
            return ErrorReply(code: .tryLater, failedType: type, retryAfterMs: retryAfterMs(inserting: count),
                              text: "replay insertion is ahead of training; retry")
        }
        return nil
    }

    /// Holds room for transitions a simulator's rows completed; call after `simulatorAdmission`
    /// said yes, then `commitSimulatorTransitions` once the log has them.
    public mutating func reserveSimulatorTransitions(_ count: Int, peer: PeerKey?, now: ContinuousClock.Instant) {
        if let peer { peers[peer]?.lastSeen = now }
        guard count > 0 else { return }
        if let closed = gateClosedSince {
            insertBlocked += now - closed
            gateClosedSince = nil
        }
        reserve(count)
    }

    /// Queues reserved simulator transitions once durable, or gives their room back.
    public mutating func commitSimulatorTransitions(_ batch: Wire.TransitionBatch, actingVersion: UInt64,
                                                    durable: Bool) {
        guard batch.count > 0 else { return }
        guard durable else {
            release(batch.count)
            logFailures += 1
            return
        }
        queue.append(batch)
        staleness.record(policyVersion >= actingVersion ? policyVersion - actingVersion : 0, count: batch.count)
    }

    /// Reserves and queues at once (no write-ahead log between).
    public mutating func enqueueSimulatorTransitions(_ batch: Wire.TransitionBatch, peer: PeerKey?,
                                                     actingVersion: UInt64, now: ContinuousClock.Instant) {
        reserveSimulatorTransitions(batch.count, peer: peer, now: now)
        commitSimulatorTransitions(batch, actingVersion: actingVersion, durable: true)
    }

    /// Keeps a peer that only sends ACTION_REQUEST (no heartbeats) from being forgotten.
    public mutating func touch(_ key: PeerKey, now: ContinuousClock.Instant) {
        peers[key]?.lastSeen = now
    }

    // MARK: - HEARTBEAT, EPISODE_STATS, GOODBYE

    public mutating func heartbeat(_ beat: Heartbeat, now: ContinuousClock.Instant) -> Message {
        let key = PeerKey(actorID: beat.actorID, runID: beat.runID)
        guard peers[key] != nil else {
            return .error(ErrorReply(code: .notWelcome, failedType: MessageType.heartbeat.rawValue,
                                     text: "say HELLO first"))
        }
        if shutdown == .finished {
            // The run is over: an actor waiting on a full outbox learns it here, not at a time-out.
            return .error(ErrorReply(code: .shuttingDown, failedType: MessageType.heartbeat.rawValue,
                                     retryAfterMs: 0, text: shutdownText))
        }
        peers[key]?.lastSeen = now
        peers[key]?.actingVersion = beat.policyVersion
        peers[key]?.reportedEnvSteps = beat.envSteps
        peers[key]?.reportedQueueLength = beat.queueLength
        return .heartbeatReply(HeartbeatReply(learnerRunID: learnerRunID, policyVersion: policyVersion,
                                              updates: UInt64(updates), replaySize: UInt64(replaySize)))
    }

    public mutating func episodeStats(_ stats: EpisodeStats, now: ContinuousClock.Instant) -> Message {
        let key = PeerKey(actorID: stats.actorID, runID: stats.runID)
        guard peers[key] != nil else {
            return .error(ErrorReply(code: .notWelcome, failedType: MessageType.episodeStats.rawValue,
                                     text: "say HELLO first"))
        }
        peers[key]?.lastSeen = now
        for episode in stats.episodes {
            recentReturns.append(episode.episodeReturn)
            pendingEpisodes.append((acceptedTransitions, episode))
        }
        if recentReturns.count > 100 { recentReturns.removeFirst(recentReturns.count - 100) }
        if pendingEpisodes.count > 10_000 { pendingEpisodes.removeFirst(pendingEpisodes.count - 10_000) }
        var tally = tallies[stats.actorID, default: ActorTally()]
        tally.episodes += stats.episodes.count
        tally.lastReturn = stats.episodes.last?.episodeReturn ?? tally.lastReturn
        tallies[stats.actorID] = tally
        return .ack(Ack(ackedType: .episodeStats))
    }

    /// Finished episodes since the last call, with the env step each arrived at.
    public mutating func takeEpisodes() -> [(step: Int, summary: EpisodeSummary)] {
        defer { pendingEpisodes.removeAll(keepingCapacity: true) }
        return pendingEpisodes
    }

    // MARK: - Liveness and shutdown

    /// Forgets peers silent for longer than `timeout`; returns them.
    public mutating func forgetSilentPeers(now: ContinuousClock.Instant, timeout: Duration) -> [PeerKey] {
        let silent = peers.values.filter { now - $0.lastSeen > timeout }.map(\.key)
        for key in silent {
            peers[key] = nil
            sessions.end(key: key)
        }
        pruneRuns(now: now)
        return silent.sorted()
    }

    /// Stops taking transitions and HELLOs; `.finished` also tells peers not to retry, and
    /// `.stopping` also ends training after the update in progress.
    public mutating func beginShutdown(_ mode: ShutdownMode) {
        if mode == .stopping { stopRequested = true }
        if shutdown == .running || mode == .finished { shutdown = mode }
    }

    // MARK: - Training thread side

    /// Takes every queued batch; the caller inserts them and then calls `recordInserted`.
    public mutating func drain() -> [Wire.TransitionBatch] {
        defer {
            queue.removeAll(keepingCapacity: true)
        }
        return queue
    }

    /// Counts transitions that moved from the queue into replay.
    public mutating func recordInserted(_ n: Int, overwritten: Int, replaySize: Int) {
        queuedTransitions -= n
        if n > 0 { limiter.recordInsert(n) }
        if overwritten > 0 { limiter.recordDelete(overwritten) }
        self.replaySize = replaySize
    }

    /// Reserves one replay batch from the rate limiter; false when the learner must wait for inserts.
    public mutating func reserveSample() -> Bool {
        guard limiter.canSample(settings.batchSize) else { return false }
        limiter.recordSample(settings.batchSize)
        return true
    }

    /// Adds time the training thread waited for inserts while replay was past its minimum size.
    public mutating func recordSampleBlocked(for duration: Duration) {
        limiter.recordSampleBlocked(for: duration)
    }

    /// Whether the training thread has anything to do right now.
    public var hasWork: Bool { !queue.isEmpty || limiter.canSample(settings.batchSize) }

    // MARK: - Resume

    /// Continues the counters of a checkpoint: env steps, per-actor tallies, drop counts.
    ///
    /// Called before anything listens. Sequence windows are not here: the write-ahead log,
    /// read back with `recordSeen`, keeps every acknowledged batch a duplicate.
    /// A run whose budget the checkpoint already spent is finished at once.
    public mutating func restore(_ counters: LedgerCounters) {
        acceptedTransitions = counters.envSteps
        tallies = Dictionary(uniqueKeysWithValues: counters.actors.compactMap { key, tally in
            UInt32(key).map { ($0, tally) }
        })
        duplicateReplies = counters.duplicates
        tryLaterReplies = counters.tryLater
        staleDrops = counters.staleDropped
        if let total = settings.totalSteps, acceptedTransitions >= total { shutdown = .finished }
    }

    /// Continues the step count past every transition the write-ahead log holds (after a crash
    /// they are more than the checkpoint counted; they are back in replay).
    public mutating func continueLogged(transitions: Int) {
        acceptedTransitions = max(acceptedTransitions, transitions)
        if let total = settings.totalSteps, acceptedTransitions >= total { shutdown = .finished }
    }

    /// Counts transitions the training thread could not put into replay (bad columns), with a reason.
    public mutating func recordInsertFailed(_ n: Int, reason: String) {
        queuedTransitions -= n
        droppedTransitions[reason, default: 0] += n
    }

    /// The counters a checkpoint keeps; `envSteps` counts transitions in replay (not those still queued).
    public var counters: LedgerCounters {
        LedgerCounters(
            envSteps: acceptedTransitions - queuedTransitions,
            actors: Dictionary(uniqueKeysWithValues: tallies.map { (String($0.key), $0.value) }),
            duplicates: duplicateReplies, tryLater: tryLaterReplies, staleDropped: staleDrops)
    }

    /// Tells the rate limiter about `count` transitions restored from a replay snapshot.
    ///
    /// The limiter is left exactly where a fresh run stands the moment warm-up ends
    /// (D = samples per insert × min replay): updates continue at the configured ratio
    /// as new transitions arrive, with no burst on the restored data. A snapshot smaller
    /// than the minimum counts as warm-up already done in part.
    public mutating func restoreReplay(count: Int) {
        guard count > 0 else { return }
        limiter.recordInsert(count)
        let beyondWarmup = max(0, count - limiter.minSizeToSample)
        let samples = Int((Double(beyondWarmup) * limiter.samplesPerInsert).rounded(.down))
        if samples > 0 { limiter.recordSample(samples) }
        replaySize = count
    }
}

/// The ledger's counters in a checkpoint (docs/checkpoints.md, the manifest's `learner` record).
public struct LedgerCounters: Sendable, Equatable, Codable {
    /// Transitions stored in replay so far: the run's environment steps.
    public var envSteps: Int
    /// Lifetime tallies by actor id (decimal strings: JSON object keys).
    public var actors: [String: ActorTally]
    public var duplicates: Int
    public var tryLater: Int
    public var staleDropped: Int

    public init(envSteps: Int, actors: [String: ActorTally], duplicates: Int, tryLater: Int, staleDropped: Int) {
        self.envSteps = envSteps
        self.actors = actors
        self.duplicates = duplicates
        self.tryLater = tryLater
        self.staleDropped = staleDropped
    }
}

/// The policy lag of the last accepted transitions, one value per transition: the learner's
/// version when the transition is accepted into the replay queue minus the version of the
/// policy that chose its action (docs/metrics.md, "Staleness").
public struct StalenessWindow: Sendable, Equatable {
    private var values: [UInt64] = []
    private var next = 0
    public let capacity: Int

    public init(capacity: Int = 16_384) {
        precondition(capacity >= 1, "the window holds at least one transition")
        self.capacity = capacity
    }

    /// Records `count` transitions of lag `lag`.
    mutating func record(_ lag: UInt64, count: Int = 1) {
        for _ in 0 ..< count { record(one: lag) }
    }

    /// Records every row of `batch`, accepted while the learner is at `learnerVersion`.
    mutating func record(_ batch: Wire.TransitionBatch, learnerVersion: UInt64) {
        for row in 0 ..< batch.count {
            let acting = batch.actingVersion(ofRow: row)
            record(one: learnerVersion >= acting ? learnerVersion - acting : 0)
        }
    }

    private mutating func record(one lag: UInt64) {
        if values.count < capacity {
            values.append(lag)
        } else {
            values[next] = lag
            next = (next + 1) % capacity
        }
    }

    /// Min, mean, median, 99th percentile and max of the window; nil before the first transition.
    public var summary: StalenessSummary? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        // Nearest rank: the smallest value with at least q of the window at or below it.
        func quantile(_ q: Double) -> UInt64 {
            sorted[max(0, min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
        }
        return StalenessSummary(min: sorted[0], mean: Double(sorted.reduce(0, +)) / Double(sorted.count),
                                p50: quantile(0.5), p99: quantile(0.99), max: sorted[sorted.count - 1])
    }
}

/// Per-transition policy lag over the recent window (`StalenessWindow`).
public struct StalenessSummary: Codable, Sendable, Equatable {
    public var min: UInt64
    public var mean: Double
    public var p50: UInt64
    public var p99: UInt64
    public var max: UInt64

    public init(min: UInt64, mean: Double, p50: UInt64, p99: UInt64, max: UInt64) {
        self.min = min
        self.mean = mean
        self.p50 = p50
        self.p99 = p99
        self.max = max
    }
}
