import Replay
import Simulators
import Wire

/// What a TRANSITIONS request did to the ledger.
public enum IngestOutcome: Sendable, Equatable {
    /// Stored (queued for replay).
    case stored
    /// Accepted but dropped for staleness.
    case droppedStale
    /// Not taken: duplicate, backpressure, or an error reply.
    case none
}

/// A batch admitted by the ledger that the write-ahead log must hold before it is acknowledged.
public struct PendingIngest: Sendable {
    public let batch: Wire.TransitionBatch
    /// `.stored`, or `.droppedStale` (acknowledged, logged as a mark only).
    public let outcome: IngestOutcome

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
/// The learner keeps one ledger behind one lock: handlers apply requests to it and the training
/// thread drains its queue and reserves samples from its rate limiter. It composes four parts,
/// each a plain value with the clock passed in and its own rules: the `PeerRegistry` (who is live,
/// sessions, dedupe marks), the `AdmissionGate` (HELLO checks, room, backpressure, step budget,
/// shutdown), the `EpisodeBuffer` and the `IngestCounters`; the ledger applies a request to them in
/// the order the protocol says. The training thread's own state (`TrainingProgress`) changes only
/// through `recordTraining`.
public struct IngestLedger: Sendable {
    public let spec: EnvironmentSpec
    /// Random per learner start; a change tells actors the learner restarted.
    public let learnerRunID: UInt64

    /// The spaces every peer must share; nil for a preset until the first actor's HELLO.
    public private(set) var spaces: AgreedSpaces?
    /// The env id WELCOME names (a preset adopts the first actor's).
    public private(set) var envID: String
    public private(set) var registry: PeerRegistry
    public private(set) var gate: AdmissionGate
    public private(set) var episodes = EpisodeBuffer()
    public private(set) var counts = IngestCounters()
    public private(set) var training = TrainingProgress()

    public init(settings: IngestSettings, spec: EnvironmentSpec, limiter: RateLimiter, learnerRunID: UInt64) {
        self.spec = spec
        self.learnerRunID = learnerRunID
        self.spaces = spec.spaces
        self.envID = spec.envID
        // Runs without a session whose marks are kept (PROTOCOL.md 5.8, "Resend horizon").
        registry = PeerRegistry(resendHorizon: settings.resendHorizon, maxDormantRuns: max(64, 4 * settings.maxActors))
        gate = AdmissionGate(settings: settings, limiter: limiter)
    }

    // MARK: - HELLO

    /// Welcomes or refuses a peer (PROTOCOL.md 5.1 to 5.3).
    public mutating func hello(_ hello: Hello, now: ContinuousClock.Instant) -> Message {
        if let refused = gate.helloRefusal(hello) { return refuse(refused) }
        let key = PeerKey(actorID: hello.actorID, runID: hello.runID)
        // Simulators share the actors' spaces: both feed the same replay (SimulatorServer.swift).
        if hello.role == .actor || hello.role == .simulator, let reason = spaceMismatch(hello) {
            counts.countSpaceMismatch()
            return refuse(Refused(code: .spaceMismatch, retryAfterMs: 0, text: reason))
        }
        if hello.role == .actor {
            let maxActors = settings.maxActors
            if registry.liveActors(otherThan: hello.actorID) >= maxActors {
                return refuse(Refused(code: .full, retryAfterMs: 1000,
                                      text: "the learner serves its maximum of \(maxActors) actors"))
            }
            if registry.startActorRun(key, now: now) { counts.countRun(of: hello.actorID) }
        }
        if (hello.role == .actor || hello.role == .simulator) && spaces == nil {
            spaces = AgreedSpaces(observation: hello.observationSpace, action: hello.actionSpace)
            if !hello.envID.isEmpty { envID = hello.envID }
        }
        registry.welcome(key, role: hello.role, now: now)
        var welcome = settings.welcome
        welcome.learnerRunID = learnerRunID
        welcome.policyVersion = policyVersion
        welcome.envID = envID
        return .welcome(welcome)
    }

    private func spaceMismatch(_ hello: Hello) -> String? {
        if !spec.envIDMatches(hello.envID, learnerEnvID: envID) {
            return "hello.env_id is \(hello.envID); this learner trains on \(envID) (preset \(spec.name))"
        }
        if let spaces { return spaces.mismatch(observation: hello.observationSpace, action: hello.actionSpace) }
        return spec.presetMismatch(observation: hello.observationSpace, action: hello.actionSpace)
    }

    private mutating func refuse(_ refused: Refused) -> Message {
        counts.countRefusal(refused.code)
        return .refused(refused)
    }

    // MARK: - Sessions (PROTOCOL.md 3.1)

    /// Opens the session of a HELLO this ledger welcomed on `pipe`; a HELLO on a pipe that had a
    /// session replaces it.
    public mutating func openSession(_ hello: Hello, pipe: UInt32, now: ContinuousClock.Instant) {
        let key = PeerKey(actorID: hello.actorID, runID: hello.runID)
        registry.openSession(PeerSession(role: hello.role, key: key), pipe: pipe, now: now)
    }

    /// Ends the session on `pipe`: a GOODBYE (`goodbye`), or the connection closed
    /// (`PeerRegistry.endSession` says what happens to the run's dedupe marks).
    @discardableResult
    public mutating func endSession(pipe: UInt32, goodbye: Bool, now: ContinuousClock.Instant) -> PeerSession? {
        registry.endSession(pipe: pipe, goodbye: goodbye, now: now)
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
        if let error = gate.shutdownError(failedType: type) { return .reply(.error(error)) }
        let key = PeerKey(actorID: batch.actorID, runID: batch.runID)
        guard let peer = registry.peers[key] else {
            return .reply(.error(ErrorReply(code: .notWelcome, failedType: type, text: "say HELLO first")))
        }
        guard peer.role == .actor else {
            return .reply(.error(ErrorReply(code: .unexpectedMessage, failedType: type,
                                            text: "only actors send TRANSITIONS")))
        }
        registry.touch(key, now: now)
        registry.noteActivity(key, now: now)
        if let spaces, batch.observationSize != spaces.observationSize || batch.actionSize != spaces.actionSize {
            counts.countSpaceMismatch()
            let text = "transitions.obs_dim is \(batch.observationSize) and action_dim \(batch.actionSize); "
                + "the agreed spaces have \(spaces.observationSize) and \(spaces.actionSize) elements"
            return .reply(.error(ErrorReply(code: .spaceMismatch, failedType: type, text: text)))
        }
        if let violation = gate.limitViolation(in: batch) { return .reply(.error(violation)) }
        if registry.isStored(key, seq: batch.seq) {
            counts.countDuplicate(from: batch.actorID)
            return .reply(ack(batch.seq, .duplicate))
        }
        if registry.isInFlight(key, seq: batch.seq) {
            // A resend of a batch still on its way to disk: its fate is not known yet.
            counts.countTryLater(from: batch.actorID)
            return .reply(ack(batch.seq, .tryLater, retry: 20))
        }
        if gate.isTooStale(lag: policyLag(policyVersion, behind: batch.policyVersion)) {
            registry.beginWrite(key, seq: batch.seq)
            return .log(PendingIngest(batch: batch, outcome: .droppedStale))
        }
        if let retry = gate.refuseRoom(for: batch.count, peer: key, secondsPerUpdate: training.secondsPerUpdate,
                                       now: now) {
            counts.countTryLater(from: batch.actorID)
            return .reply(ack(batch.seq, .tryLater, retry: retry))
        }
        registry.beginWrite(key, seq: batch.seq)
        gate.reserve(batch.count, now: now)
        return .log(PendingIngest(batch: batch, outcome: .stored))
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
        if case .failure(let error) = durable {
            registry.endWrite(key, seq: batch.seq, stored: false, now: now)
            if pending.outcome == .stored { gate.release(batch.count) }
            counts.countLogFailure()
            counts.countTryLater(from: batch.actorID)
            return .error(ErrorReply(code: .tryLater, failedType: MessageType.transitions.rawValue, retryAfterMs: 1000,
                                     text: "the learner could not make the batch durable (\(error)); it was not "
                                        + "stored, send it again"))
        }
        registry.endWrite(key, seq: batch.seq, stored: true, now: now)
        if pending.outcome == .droppedStale {
            counts.countStaleDrop(from: batch.actorID)
            return ack(batch.seq, .accepted)
        }
        gate.enqueue(batch)
        counts.countStored(batch, learnerVersion: policyVersion)
        registry.raiseActingVersion(of: key, to: batch.policyVersion)
        return ack(batch.seq, .accepted)
    }

    private func ack(_ seq: UInt64, _ status: TransitionsStatus, retry: UInt32 = 0) -> Message {
        .transitionsAck(TransitionsAck(seq: seq, policyVersion: policyVersion, retryAfterMs: retry, status: status))
    }

    /// Marks a batch as seen without storing it: used to read back the write-ahead log of an
    /// earlier learner session, so batches it acknowledged stay duplicates after a restart.
    public mutating func recordSeen(_ key: PeerKey, seq: UInt64, now: ContinuousClock.Instant = .now) {
        registry.recordSeen(key, seq: seq, now: now)
    }

    // MARK: - Simulator transitions (built by SimulatorServer from ACTION_REQUEST rows)

    /// Whether `count` more transitions fit the ingest queue and the rate limiter now.
    ///
    /// nil when they fit; otherwise the reply that tells the simulator to wait (TRY_LATER with
    /// the limiter's estimate) or to stop (SHUTTING_DOWN).
    public mutating func simulatorAdmission(_ count: Int, now: ContinuousClock.Instant) -> ErrorReply? {
        let type = MessageType.actionRequest.rawValue
        if let error = gate.shutdownError(failedType: type) { return error }
        guard let retry = gate.refuseRoom(for: count, peer: nil, secondsPerUpdate: training.secondsPerUpdate,
                                          now: now) else { return nil }
        return ErrorReply(code: .tryLater, failedType: type, retryAfterMs: retry,
                          text: "replay insertion is ahead of training; retry")
    }

    /// Holds room for transitions a simulator's rows completed; call after `simulatorAdmission`
    /// said yes, then `commitSimulatorTransitions` once the log has them.
    public mutating func reserveSimulatorTransitions(_ count: Int, peer: PeerKey?, now: ContinuousClock.Instant) {
        if let peer { registry.touch(peer, now: now) }
        if count > 0 { gate.reserve(count, now: now) }
    }

    /// Queues reserved simulator transitions once durable, or gives their room back.
    public mutating func commitSimulatorTransitions(_ batch: Wire.TransitionBatch, actingVersion: UInt64,
                                                    durable: Bool) {
        guard batch.count > 0 else { return }
        guard durable else {
            gate.release(batch.count)
            counts.countLogFailure()
            return
        }
        gate.enqueue(batch)
        counts.countSimulatorTransitions(batch.count, actingVersion: actingVersion, learnerVersion: policyVersion)
    }

    /// Reserves and queues at once (no write-ahead log between).
    public mutating func enqueueSimulatorTransitions(_ batch: Wire.TransitionBatch, peer: PeerKey?,
                                                     actingVersion: UInt64, now: ContinuousClock.Instant) {
        reserveSimulatorTransitions(batch.count, peer: peer, now: now)
        commitSimulatorTransitions(batch, actingVersion: actingVersion, durable: true)
    }

    /// Keeps a peer that only sends ACTION_REQUEST (no heartbeats) from being forgotten.
    public mutating func touch(_ key: PeerKey, now: ContinuousClock.Instant) {
        registry.touch(key, now: now)
    }

    // MARK: - HEARTBEAT, EPISODE_STATS

    public mutating func heartbeat(_ beat: Heartbeat, now: ContinuousClock.Instant) -> Message {
        let type = MessageType.heartbeat.rawValue
        guard registry.peers[PeerKey(actorID: beat.actorID, runID: beat.runID)] != nil else {
            return .error(ErrorReply(code: .notWelcome, failedType: type, text: "say HELLO first"))
        }
        // The run is over: an actor waiting on a full outbox learns it here, not at a time-out.
        if shutdown == .finished, let error = gate.shutdownError(failedType: type) { return .error(error) }
        registry.recordHeartbeat(beat, now: now)
        return .heartbeatReply(HeartbeatReply(learnerRunID: learnerRunID, policyVersion: policyVersion,
                                              updates: UInt64(updates), replaySize: UInt64(replaySize)))
    }

    public mutating func episodeStats(_ stats: EpisodeStats, now: ContinuousClock.Instant) -> Message {
        let key = PeerKey(actorID: stats.actorID, runID: stats.runID)
        guard registry.peers[key] != nil else {
            return .error(ErrorReply(code: .notWelcome, failedType: MessageType.episodeStats.rawValue,
                                     text: "say HELLO first"))
        }
        registry.touch(key, now: now)
        episodes.record(stats.episodes, atStep: acceptedTransitions)
        counts.countEpisodes(stats.episodes, from: stats.actorID)
        return .ack(Ack(ackedType: .episodeStats))
    }

    /// Finished episodes since the last call, with the env step each arrived at.
    public mutating func takeEpisodes() -> [(step: Int, summary: EpisodeSummary)] {
        episodes.take()
    }

    // MARK: - Liveness and shutdown

    /// Forgets peers silent for longer than `timeout`; returns them.
    public mutating func forgetSilentPeers(now: ContinuousClock.Instant, timeout: Duration) -> [PeerKey] {
        registry.forgetSilentPeers(now: now, timeout: timeout)
    }

    /// Stops taking transitions and HELLOs; `.finished` also tells peers not to retry, and
    /// `.stopping` also ends training after the update in progress.
    public mutating func beginShutdown(_ mode: ShutdownMode) {
        gate.beginShutdown(mode)
    }

    // MARK: - Training thread side

    /// Publishes the training thread's progress after an update (or a checkpoint's, at start):
    /// the one way `policyVersion`, `updates`, `skippedUpdates` and the update time change.
    public mutating func recordTraining(policyVersion: UInt64, updates: Int, skippedUpdates: Int,
                                        secondsPerUpdate: Double? = nil) {
        training.record(policyVersion: policyVersion, updates: updates, skippedUpdates: skippedUpdates,
                        secondsPerUpdate: secondsPerUpdate)
    }

    /// Takes every queued batch; the caller inserts them and then calls `recordInserted`.
    public mutating func drain() -> [Wire.TransitionBatch] {
        gate.drain()
    }

    /// Counts transitions that moved from the queue into replay.
    public mutating func recordInserted(_ n: Int, overwritten: Int, replaySize: Int) {
        gate.recordInserted(n, overwritten: overwritten, replaySize: replaySize)
    }

    /// Counts transitions the training thread could not put into replay (bad columns), with a reason.
    public mutating func recordInsertFailed(_ n: Int, reason: String) {
        gate.recordInsertFailed(n)
        counts.countDropped(n, reason: reason)
    }

    /// Reserves one replay batch from the rate limiter; false when the learner must wait for inserts.
    public mutating func reserveSample() -> Bool {
        gate.reserveSample()
    }

    /// Adds time the training thread waited for inserts while replay was past its minimum size.
    public mutating func recordSampleBlocked(for duration: Duration) {
        gate.recordSampleBlocked(for: duration)
    }

    // MARK: - Resume

    /// Continues the counters of a checkpoint: env steps, per-actor tallies, drop counts.
    ///
    /// Called before anything listens. Sequence windows are not here: the write-ahead log,
    /// read back with `recordSeen`, keeps every acknowledged batch a duplicate.
    /// A run whose budget the checkpoint already spent is finished at once.
    public mutating func restore(_ counters: LedgerCounters) {
        gate.continueSteps(at: counters.envSteps)
        counts.restore(counters)
    }

    /// Continues the step count past every transition the write-ahead log holds (after a crash
    /// they are more than the checkpoint counted; they are back in replay).
    public mutating func continueLogged(transitions: Int) {
        gate.continueSteps(at: transitions)
    }

    /// The counters a checkpoint keeps; `envSteps` counts transitions in replay (not those still queued).
    public var counters: LedgerCounters {
        counts.checkpoint(envSteps: acceptedTransitions - queuedTransitions)
    }

    /// Tells the rate limiter about `count` transitions restored from a replay snapshot
    /// (`AdmissionGate.restoreReplay` says where it leaves the limiter).
    public mutating func restoreReplay(count: Int) {
        gate.restoreReplay(count: count)
    }
}

// MARK: - Reading

extension IngestLedger {
    public var settings: IngestSettings { gate.settings }
    /// The version and token checks every HELLO passes, shared with a gateway's.
    public var admission: HelloAdmission { gate.admission }
    public var limiter: RateLimiter { gate.limiter }
    public var shutdown: ShutdownMode { gate.shutdown }
    /// A stop was requested (signal): the training thread ends after its current update.
    public var stopRequested: Bool { gate.stopRequested }
    /// Whether the training thread has anything to do right now.
    public var hasWork: Bool { gate.hasWork }
    /// Whether batches wait for the training thread to drain them.
    public var hasQueuedBatches: Bool { gate.hasQueuedBatches }
    public var queuedTransitions: Int { gate.queuedTransitions }
    /// Transitions accepted so far (stored or queued): the run's environment steps.
    public var acceptedTransitions: Int { gate.acceptedTransitions }
    public var replaySize: Int { gate.replaySize }
    public var insertBlocked: Duration { gate.insertBlocked }

    public var peers: [PeerKey: PeerRecord] { registry.peers }
    public var sessions: PeerSessions { registry.sessions }
    public var liveActors: Int { registry.liveActors }
    public var trackedRuns: Int { registry.trackedRuns }
    public var prunedRuns: Int { registry.prunedRuns }

    public var tallies: [UInt32: ActorTally] { counts.tallies }
    public var tryLaterReplies: Int { counts.tryLaterReplies }
    public var duplicateReplies: Int { counts.duplicateReplies }
    public var staleDrops: Int { counts.staleDrops }
    public var spaceMismatches: Int { counts.spaceMismatches }
    public var refusals: [ErrorCode: Int] { counts.refusals }
    public var logFailures: Int { counts.logFailures }
    public var droppedTransitions: [String: Int] { counts.droppedTransitions }
    public var staleness: StalenessWindow { counts.staleness }

    public var policyVersion: UInt64 { training.policyVersion }
    public var updates: Int { training.updates }
    public var skippedUpdates: Int { training.skippedUpdates }
}
