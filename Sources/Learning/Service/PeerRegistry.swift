import Simulators
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

/// When a run was last heard from, for pruning its dedupe marks.
struct RunActivity: Sendable {
    var last: ContinuousClock.Instant
    /// It said GOODBYE, or a newer run of its actor id said HELLO: nothing more can come from it.
    var ended: Bool
    var order: Int
}

/// One (peer, seq) pair.
struct PeerSeq: Hashable, Sendable {
    var key: PeerKey
    var seq: UInt64
}

/// The peers a learner knows: who is live, on which connection, and which batches of each run it stored.
///
/// A run's dedupe marks (its `SequenceWindow`) outlive its peer record: REQ resends a batch on the
/// next connection, and an actor resends its unacknowledged batches to a restarted learner. They go
/// once nothing more can come from the run (GOODBYE, a newer run of its actor id) or it has been
/// silent for the resend horizon (PROTOCOL.md 5.8), and runs without a session are capped in number.
public struct PeerRegistry: Sendable {
    public private(set) var peers: [PeerKey: PeerRecord] = [:]
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
    /// How long a run's dedupe marks outlive its last session.
    public let resendHorizon: Duration
    /// Most runs without a session whose marks are kept.
    public let maxDormantRuns: Int

    public init(resendHorizon: Duration, maxDormantRuns: Int) {
        self.resendHorizon = resendHorizon
        self.maxDormantRuns = maxDormantRuns
    }

    /// Runs whose dedupe marks the registry holds now.
    public var trackedRuns: Int { windows.count }

    /// Live peers with the actor role.
    public var liveActors: Int { peers.values.filter { $0.role == .actor }.count }

    /// Live actors whose actor id is not `actorID`.
    public func liveActors(otherThan actorID: UInt32) -> Int {
        peers.values.filter { $0.role == .actor && $0.key.actorID != actorID }.count
    }

    // MARK: - HELLO

    /// Makes `key` its actor id's one run; returns true when this registry had no marks of it yet.
    ///
    /// A new run of the same actor id replaces the old process, which is gone or a stray copy:
    /// its runs can send nothing more, so their dedupe marks go at the next prune.
    public mutating func startActorRun(_ key: PeerKey, now: ContinuousClock.Instant) -> Bool {
        for old in peers.keys where old.actorID == key.actorID && old != key && peers[old]?.role == .actor {
            peers[old] = nil
            sessions.end(key: old)
        }
        for old in runActivity.keys where old.actorID == key.actorID && old != key {
            runActivity[old]?.ended = true
        }
        let isNew = windows[key] == nil
        if isNew { windows[key] = SequenceWindow() }
        noteActivity(key, now: now)
        return isNew
    }

    /// Records a welcomed peer, keeping the acting version a repeated HELLO of the same run had.
    public mutating func welcome(_ key: PeerKey, role: Role, now: ContinuousClock.Instant) {
        peers[key] = PeerRecord(key: key, role: role, lastSeen: now, actingVersion: peers[key]?.actingVersion ?? 0)
        pruneRuns(now: now)
    }

    // MARK: - Sessions (PROTOCOL.md 3.1)

    /// Opens `session` on `pipe`; a session it replaces with other ids is released.
    public mutating func openSession(_ session: PeerSession, pipe: UInt32, now: ContinuousClock.Instant) {
        if let replaced = sessions.open(session, onPipe: pipe), replaced.key != session.key {
            release(replaced, goodbye: false, now: now)
        }
    }

    /// Ends the session on `pipe`: a GOODBYE (`goodbye`), or the connection closed.
    ///
    /// The peer's slot is free at once. After GOODBYE the run's dedupe marks go too (the peer
    /// sends GOODBYE only once every batch is acknowledged); after a closed connection they stay
    /// for the resend horizon, because REQ resends on the next connection.
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

    // MARK: - Liveness

    /// Keeps a live peer from being forgotten; an unknown key is ignored.
    public mutating func touch(_ key: PeerKey, now: ContinuousClock.Instant) {
        peers[key]?.lastSeen = now
    }

    /// Takes what a welcomed peer's HEARTBEAT reports; an unknown key is ignored.
    public mutating func recordHeartbeat(_ beat: Heartbeat, now: ContinuousClock.Instant) {
        let key = PeerKey(actorID: beat.actorID, runID: beat.runID)
        guard peers[key] != nil else { return }
        peers[key]?.lastSeen = now
        peers[key]?.actingVersion = beat.policyVersion
        peers[key]?.reportedEnvSteps = beat.envSteps
        peers[key]?.reportedQueueLength = beat.queueLength
    }

    /// Raises the acting version of `key` to `version` (a batch says the peer acts with it already).
    public mutating func raiseActingVersion(of key: PeerKey, to version: UInt64) {
        if let acting = peers[key]?.actingVersion { peers[key]?.actingVersion = max(acting, version) }
    }

    /// Forgets peers silent for longer than `timeout`; returns them, sorted.
    public mutating func forgetSilentPeers(now: ContinuousClock.Instant, timeout: Duration) -> [PeerKey] {
        let silent = peers.values.filter { now - $0.lastSeen > timeout }.map(\.key)
        for key in silent {
            peers[key] = nil
            sessions.end(key: key)
        }
        pruneRuns(now: now)
        return silent.sorted()
    }

    // MARK: - Dedupe marks

    /// Whether batch `seq` of `key` was stored (or read back from the write-ahead log).
    public func isStored(_ key: PeerKey, seq: UInt64) -> Bool {
        windows[key]?.contains(seq) ?? false
    }

    /// Whether batch `seq` of `key` was admitted and still waits for the write-ahead log.
    public func isInFlight(_ key: PeerKey, seq: UInt64) -> Bool {
        inFlight.contains(PeerSeq(key: key, seq: seq))
    }

    /// Holds batch `seq` of `key` while the write-ahead log writes it; its run is not pruned meanwhile.
    public mutating func beginWrite(_ key: PeerKey, seq: UInt64) {
        inFlight.insert(PeerSeq(key: key, seq: seq))
    }

    /// Ends `beginWrite`; `stored`: the log has it, so a copy is a duplicate from now on.
    public mutating func endWrite(_ key: PeerKey, seq: UInt64, stored: Bool, now: ContinuousClock.Instant) {
        inFlight.remove(PeerSeq(key: key, seq: seq))
        guard stored else { return }
        windows[key, default: SequenceWindow()].insert(seq)
        if runActivity[key] == nil { noteActivity(key, now: now) }
    }

    /// Marks a batch as stored without a session: used to read back the write-ahead log of an
    /// earlier learner session, so batches it acknowledged stay duplicates after a restart.
    public mutating func recordSeen(_ key: PeerKey, seq: UInt64, now: ContinuousClock.Instant) {
        windows[key, default: SequenceWindow()].insert(seq)
        noteActivity(key, now: now)
    }

    /// Notes that `key` was heard from now, which keeps its marks for another resend horizon.
    public mutating func noteActivity(_ key: PeerKey, now: ContinuousClock.Instant) {
        noteActivity(key, now: now, ended: false)
    }

    private mutating func noteActivity(_ key: PeerKey, now: ContinuousClock.Instant, ended: Bool) {
        activityCounter += 1
        runActivity[key] = RunActivity(last: now, ended: ended, order: activityCounter)
    }

    /// Drops the dedupe marks of runs without a session that said GOODBYE or have been silent for
    /// the resend horizon. A run with a live session or a batch on its way to disk is kept.
    private mutating func pruneRuns(now: ContinuousClock.Instant) {
        let busy = Set(inFlight.map(\.key))
        let expired = runActivity.filter { key, activity in
            (activity.ended || now - activity.last > resendHorizon) && peers[key] == nil
                && !sessions.isLive(key) && !busy.contains(key)
        }.map(\.key)
        for key in expired {
            windows[key] = nil
            runActivity[key] = nil
        }
        prunedRuns += expired.count
        // Runs without a session are also capped in number, oldest first, so HELLOs with ever new
        // ids from peers that then go away cannot grow the registry within the horizon either.
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
}
