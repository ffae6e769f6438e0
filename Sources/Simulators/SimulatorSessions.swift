import Wire

/// Which welcomed simulator each connection belongs to.
///
/// ACTION_REQUEST names no peer, so a server ties it to the HELLO said on the same nng pipe
/// (connection). A simulator that reconnects gets a new pipe; it says HELLO again when told
/// NOT_WELCOME, and the same `run_id` finds its old session, so its running episodes go on.
/// A plain value with the clock passed in, so the rules are testable without sockets.
public struct SimulatorSessions: Sendable {
    /// One welcomed simulator.
    public struct Entry: Sendable, Equatable {
        public let session: UInt64
        /// The HELLO's actor id and run id (the ledger's key for its EPISODE_STATS).
        public let peer: PeerKey
        /// VALUE_ESTIMATES was asked for and granted.
        public let valuesGranted: Bool
        public var lastSeen: ContinuousClock.Instant
        /// Every request so far asked for deterministic actions: an evaluation run, whose
        /// episodes stay out of the training curves.
        public var evaluationOnly = true
        /// EVALUATION was asked for and granted: the learner schedules evaluation episodes here.
        public var evaluationGranted = false
    }

    public let maxSessions: Int
    private var entries: [UInt64: Entry] = [:]
    private var byPipe: [UInt32: UInt64] = [:]
    private var byRun: [PeerKey: UInt64] = [:]
    private var nextSession: UInt64 = 1

    public init(maxSessions: Int) {
        precondition(maxSessions >= 1, "serve at least one simulator")
        self.maxSessions = maxSessions
    }

    /// Sessions welcomed and not yet ended or evicted.
    public var count: Int { entries.count }

    /// Welcomes the peer that said `hello` on `pipe`; nil when `maxSessions` are served already.
    ///
    /// A HELLO from a run already known (a reconnect, or NOT_WELCOME answered) keeps its session.
    public mutating func welcome(_ hello: Hello, pipe: UInt32, now: ContinuousClock.Instant,
                                 evaluates: Bool = false) -> Entry? {
        let peer = PeerKey(actorID: hello.actorID, runID: hello.runID)
        let granted = hello.capabilities.contains(.valueEstimates)
        let evaluation = evaluates && hello.capabilities.contains(.evaluation)
        if let session = byRun[peer], var entry = entries[session] {
            entry.lastSeen = now
            entry.evaluationGranted = evaluation
            entries[session] = entry
            byPipe[pipe] = session
            return entry
        }
        guard entries.count < maxSessions else { return nil }
        let session = nextSession
        nextSession += 1
        var entry = Entry(session: session, peer: peer, valuesGranted: granted, lastSeen: now)
        entry.evaluationGranted = evaluation
        entries[session] = entry
        byPipe[pipe] = session
        byRun[peer] = session
        return entry
    }

    /// The session of a request that arrived on `pipe`, marking it alive; nil: say HELLO first.
    public mutating func session(onPipe pipe: UInt32, deterministic: Bool? = nil,
                                 now: ContinuousClock.Instant) -> Entry? {
        guard let session = byPipe[pipe], var entry = entries[session] else { return nil }
        entry.lastSeen = now
        if deterministic == false { entry.evaluationOnly = false }
        entries[session] = entry
        return entry
    }

    /// The session on `pipe` without touching it.
    public func entry(onPipe pipe: UInt32) -> Entry? {
        byPipe[pipe].flatMap { entries[$0] }
    }

    /// Ends the session on `pipe` (GOODBYE); returns it.
    public mutating func end(pipe: UInt32) -> UInt64? {
        guard let session = byPipe[pipe] else { return nil }
        remove(session)
        return session
    }

    /// Unbinds `pipe` (its connection closed) and leaves the session to eviction or a new HELLO.
    public mutating func detach(pipe: UInt32) {
        byPipe[pipe] = nil
    }

    /// Forgets sessions silent for longer than `timeout`; returns them.
    public mutating func evict(olderThan timeout: Duration, now: ContinuousClock.Instant) -> [UInt64] {
        let silent = entries.values.filter { $0.lastSeen.duration(to: now) > timeout }.map(\.session).sorted()
        for session in silent { remove(session) }
        return silent
    }

    private mutating func remove(_ session: UInt64) {
        guard let entry = entries.removeValue(forKey: session) else { return }
        byRun[entry.peer] = nil
        byPipe = byPipe.filter { $0.value != session }
    }
}
