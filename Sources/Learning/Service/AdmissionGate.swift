import Replay
import Simulators
import Wire

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

/// What may come in, and how fast: the HELLO checks every peer passes, the room in the ingest queue
/// and the rate limiter, the step budget and the "run is over" signal.
///
/// A plain value with the clock passed in and no knowledge of peers' histories or of training
/// (the caller passes the seconds per update the retry estimate needs), so its rules are testable
/// alone and it can serve any server that admits peers and transitions.
public struct AdmissionGate: Sendable {
    public let settings: IngestSettings
    /// The version and token checks every HELLO passes, shared with a gateway's.
    public let admission: HelloAdmission
    public private(set) var limiter: RateLimiter
    public private(set) var shutdown = ShutdownMode.running
    /// A stop was requested (signal): the training thread ends after its current update,
    /// even when the step budget already closed ingest.
    public private(set) var stopRequested = false

    /// Batches accepted and not yet taken by the training thread.
    private var queue: [Wire.TransitionBatch] = []
    /// Transitions admitted and not yet inserted into replay (queued, or on their way to disk).
    public private(set) var queuedTransitions = 0
    /// Transitions accepted so far (stored or queued): the run's environment steps.
    public private(set) var acceptedTransitions = 0
    /// Transitions in replay, as the training thread last reported.
    public private(set) var replaySize = 0
    /// Total time the gate stayed closed (TRY_LATER answered, no batch admitted since).
    public private(set) var insertBlocked: Duration = .zero
    private var closedSince: ContinuousClock.Instant?
    /// Peers turned away with TRY_LATER since the limiter last admitted a batch: each is told to
    /// wait behind the ones before it, so waiting peers come back spread out instead of together.
    private var throttled: Set<PeerKey> = []

    public init(settings: IngestSettings, limiter: RateLimiter) {
        self.settings = settings
        self.limiter = limiter
        admission = HelloAdmission(server: "learner", token: settings.token)
    }

    // MARK: - HELLO

    /// The REFUSED for a HELLO no peer may pass now (shutting down, protocol version, auth token);
    /// nil when the peer's own checks come next.
    public func helloRefusal(_ hello: Hello) -> Refused? {
        if let retry = shutdownRetry {
            return Refused(code: .shuttingDown, retryAfterMs: retry, text: shutdownText)
        }
        return admission.check(hello)
    }

    // MARK: - Shutdown

    /// The SHUTTING_DOWN error for a request of `failedType` once the gate stopped taking
    /// transitions; nil while running.
    public func shutdownError(failedType: UInt16) -> ErrorReply? {
        shutdownRetry.map {
            ErrorReply(code: .shuttingDown, failedType: failedType, retryAfterMs: $0, text: shutdownText)
        }
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

    /// Stops taking transitions and HELLOs; `.finished` also tells peers not to retry, and
    /// `.stopping` also ends training after the update in progress.
    public mutating func beginShutdown(_ mode: ShutdownMode) {
        if mode == .stopping { stopRequested = true }
        if shutdown == .running || mode == .finished { shutdown = mode }
    }

    // MARK: - Batches

    /// The ERROR for a batch beyond `--max-batch` or the magnitude bounds; nil when it is within them.
    public func limitViolation(in batch: Wire.TransitionBatch) -> ErrorReply? {
        if let violation = settings.magnitudes.violation(in: batch) { return violation }
        guard batch.count <= settings.maxBatch else {
            return ErrorReply(code: .lengthOverLimit, failedType: MessageType.transitions.rawValue,
                              text: "transitions.count is \(batch.count); this learner takes at most "
                                  + "\(settings.maxBatch)")
        }
        return nil
    }

    /// Whether a batch `lag` policy versions old is dropped (`--max-staleness`).
    public func isTooStale(lag: UInt64) -> Bool {
        settings.maxStaleness.map { lag > UInt64($0) } ?? false
    }

    /// nil when `n` more transitions fit the queue and the rate limiter now; otherwise the
    /// retry_after_ms to answer TRY_LATER with, and the gate counts as closed from `now`.
    ///
    /// A `peer` turned away waits behind those turned away before it since the gate last opened.
    public mutating func refuseRoom(for n: Int, peer: PeerKey?, secondsPerUpdate: Double,
                                    now: ContinuousClock.Instant) -> UInt32? {
        guard n > 0, queuedTransitions + n > settings.queueCapacity || !limiter.canInsert(queuedTransitions + n) else {
            return nil
        }
        if closedSince == nil { closedSince = now }
        var behind = 0
        if let peer {
            throttled.insert(peer)
            behind = throttled.count - 1
        }
        return retryAfterMs(inserting: n, behind: behind, secondsPerUpdate: secondsPerUpdate)
    }

    /// Holds room for `n` transitions `refuseRoom` let through: the gate opens, and a run whose
    /// budget they reach is finished.
    public mutating func reserve(_ n: Int, now: ContinuousClock.Instant) {
        if let closed = closedSince {
            insertBlocked += now - closed
            closedSince = nil
            throttled.removeAll(keepingCapacity: true)
        }
        queuedTransitions += n
        acceptedTransitions += n
        if let total = settings.totalSteps, acceptedTransitions >= total { shutdown = .finished }
    }

    /// Gives back the room of `n` reserved transitions the write-ahead log could not keep.
    public mutating func release(_ n: Int) {
        queuedTransitions -= n
        acceptedTransitions -= n
        if shutdown == .finished, let total = settings.totalSteps, acceptedTransitions < total { shutdown = .running }
    }

    /// Queues a batch whose room is reserved, for the training thread.
    public mutating func enqueue(_ batch: Wire.TransitionBatch) {
        if batch.count > 0 { queue.append(batch) }
    }

    /// How long until the learner has sampled enough to take `n` more transitions.
    ///
    /// The limiter admits the batch once D = inserts × spi − samples has fallen by the
    /// excess; the training thread removes `batchSize` sampled items per update, so the
    /// wait is (excess / batch size) updates. `behind` other peers were turned away before this
    /// one since the limiter last admitted a batch; their batches (assumed the size of this one)
    /// go first. Clamped to [5 ms, 1 s] so a cold estimate neither spins nor stalls an actor.
    public func retryAfterMs(inserting n: Int, behind: Int = 0, secondsPerUpdate: Double) -> UInt32 {
        let pending = Double(limiter.inserts + queuedTransitions + n * (1 + max(0, behind))) * limiter.samplesPerInsert
        let excess = max(0, pending - Double(limiter.samples) - limiter.maxDiff)
        let updates = (excess / Double(max(1, settings.batchSize))).rounded(.up)
        let seconds = updates * max(secondsPerUpdate, 0.001)
        return UInt32(min(1000, max(5, (seconds * 1000).rounded(.up))))
    }

    // MARK: - Training thread side

    /// Takes every queued batch; the caller inserts them and then calls `recordInserted`.
    public mutating func drain() -> [Wire.TransitionBatch] {
        defer { queue.removeAll(keepingCapacity: true) }
        return queue
    }

    /// Counts transitions that moved from the queue into replay.
    public mutating func recordInserted(_ n: Int, overwritten: Int, replaySize: Int) {
        queuedTransitions -= n
        if n > 0 { limiter.recordInsert(n) }
        if overwritten > 0 { limiter.recordDelete(overwritten) }
        self.replaySize = replaySize
    }

    /// Counts transitions taken from the queue that never reached replay.
    public mutating func recordInsertFailed(_ n: Int) {
        queuedTransitions -= n
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
    public var hasWork: Bool { hasQueuedBatches || limiter.canSample(settings.batchSize) }

    /// Whether batches wait for the training thread to drain them (room held for a batch still on
    /// its way to disk is not one: `queuedTransitions` counts it, the queue does not yet).
    public var hasQueuedBatches: Bool { !queue.isEmpty }

    // MARK: - Resume

    /// Continues the step count at `steps` (a checkpoint's, or every transition the write-ahead
    /// log holds, whichever is more); a run whose budget they already spent is finished at once.
    public mutating func continueSteps(at steps: Int) {
        acceptedTransitions = max(acceptedTransitions, steps)
        if let total = settings.totalSteps, acceptedTransitions >= total { shutdown = .finished }
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
