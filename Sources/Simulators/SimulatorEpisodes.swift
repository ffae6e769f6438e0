import Replay
import Wire

/// The learner's view of every simulator episode: turns ACTION_REQUEST rows into transitions.
///
/// A simulator reports the reward of step t on the request for the action of step t+1
/// (protocol/PROTOCOL.md 5.13), so the learner must remember, per episode, the observation it
/// acted on and the action it replied. Episodes are keyed by (session, episode id): the session
/// is the learner's number for one welcomed simulator, since ACTION_REQUEST names no peer.
///
/// The component is pure and thread-confined: no sockets, no threads, no clock (callers pass
/// `now`). One thread owns it; `handle` and `complete` are cheap bookkeeping around the one
/// batched act call the caller makes in between.
///
/// Row rules (the Python client and the C example implement the same):
/// - `START`: remember the observation; the replied action becomes the episode's pending action.
/// - `STEP`: store (previous observation, pending action, reward, observation, terminated 0), then
///   remember the new observation. A `STEP` for an unknown episode is a `START` (the learner may
///   have restarted): nothing to pair with, so no transition.
/// - `END` with done flags: store the final transition (terminated 1 only with the terminated
///   bit; truncation bootstraps from the real final observation) and forget the episode.
/// - `END` with flags 0: the pending action was never carried out; store nothing and forget.
/// - `END` for an unknown episode: ignored.
///
/// Rows of `DETERMINISTIC` (evaluation) requests build transitions like any others: they are
/// valid off-policy data. A learner that keeps evaluation out of replay skips
/// `PreparedRequest.transitions` when `PreparedRequest.deterministic` is set.
public struct SimulatorEpisodes: Sendable {
    /// `d_o` agreed in HELLO.
    public let observationDimension: Int
    /// `d_a` agreed in HELLO.
    public let actionDimension: Int
    public let limits: SimulatorLimits
    /// Totals since creation.
    public private(set) var counters = SimulatorCounters()

    private var sessions: [UInt64: SessionState] = [:]

    public init(observationDimension: Int, actionDimension: Int, limits: SimulatorLimits = SimulatorLimits()) {
        precondition(observationDimension >= 1 && actionDimension >= 1, "dimensions must be at least 1")
        precondition(limits.maxSessions >= 1 && limits.maxEpisodesPerSession >= 1, "limits must be at least 1")
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        self.limits = limits
    }

    // MARK: - Queries

    /// Sessions currently remembered.
    public var sessionCount: Int { sessions.count }

    /// Whether `session` is remembered.
    public func contains(session: UInt64) -> Bool { sessions[session] != nil }

    /// Episodes running in `session`, sorted (empty for an unknown session).
    public func runningEpisodes(in session: UInt64) -> [UInt64] {
        sessions[session].map { $0.episodes.keys.sorted() } ?? []
    }

    /// Episodes running across every session.
    public var episodeCount: Int { sessions.values.reduce(0) { $0 + $1.episodes.count } }

    // MARK: - Sessions

    /// Registers `session` (at WELCOME); idempotent. `handle` also registers unknown sessions.
    ///
    /// Throws `tooManySessions` when `limits.maxSessions` are already served, so the learner can
    /// answer HELLO with REFUSED `FULL`.
    public mutating func openSession(_ session: UInt64, now: ContinuousClock.Instant) throws(SimulatorError) {
        if sessions[session] != nil { return }
        guard sessions.count < limits.maxSessions else { throw .tooManySessions(limit: limits.maxSessions) }
        sessions[session] = SessionState(lastSeen: now)
    }

    /// Forgets `session` and its running episodes (GOODBYE, or the peer timed out).
    ///
    /// Transitions already handed out stay valid; only the episodes' pending steps are lost.
    /// Returns how many episodes were forgotten (counted as evicted).
    @discardableResult
    public mutating func endSession(_ session: UInt64) -> Int {
        guard let state = sessions.removeValue(forKey: session) else { return 0 }
        counters.episodesEvicted += state.episodes.count
        return state.episodes.count
    }

    /// Forgets sessions and episodes not named by any request for longer than `timeout`.
    ///
    /// A simulator that vanishes mid-episode loses that episode only: its transitions already
    /// stored stay, and every other episode and session is untouched.
    @discardableResult
    public mutating func evict(olderThan timeout: Duration, now: ContinuousClock.Instant) -> EvictionReport {
        var report = EvictionReport()
        for id in Array(sessions.keys) {
            guard var state = sessions.removeValue(forKey: id) else { continue }
            if state.lastSeen.duration(to: now) > timeout {
                report.sessions += 1
                report.episodes += state.episodes.count
                continue
            }
            let before = state.episodes.count
            state.episodes = state.episodes.filter { $0.value.lastSeen.duration(to: now) <= timeout }
            report.episodes += before - state.episodes.count
            sessions[id] = state
        }
        counters.sessionsEvicted += report.sessions
        counters.episodesEvicted += report.episodes
        return report
    }

    // MARK: - Requests

    /// Applies one ACTION_REQUEST: validates it whole, builds the completed transitions, and
    /// says which rows need actions.
    ///
    /// A refused request changes nothing. A resend of the session's last request (same
    /// `requestID`; nng REQ resends after a reconnect) stores nothing again: its reply comes
    /// from the cache, or, if the original is still being served, from the actions of the next
    /// `complete` for that request id. Episodes in `unstored` (evaluation episodes) are tracked
    /// and summed like any others but build no transitions.
    public mutating func handle(
        request: ActionRequest, session: UInt64, requestID: UInt32, now: ContinuousClock.Instant,
        unstored: Set<UInt64> = []
    ) throws(SimulatorError) -> PreparedRequest {
        try validate(request)
        if let state = sessions[session], state.lastRequestID == requestID {
            return prepareDuplicate(request, session: session, requestID: requestID, state: state, now: now)
        }
        try checkCapacity(for: request, session: session)

        var state = sessions.removeValue(forKey: session) ?? SessionState(lastSeen: now)
        state.lastSeen = now
        state.lastRequestID = requestID
        var builder = TransitionColumns(rows: request.count, observationDimension: observationDimension,
                                        actionDimension: actionDimension)
        var actingRows: [Int] = []
        actingRows.reserveCapacity(request.count)
        var ended: [EndedEpisode] = []
        let width = observationDimension
        for row in 0..<request.count {
            let id = request.episodeIDs[row]
            let observation = request.observations[row * width ..< (row + 1) * width]
            let reward = request.previousRewards[row]
            switch request.events[row] {
            case .start:
                counters.episodesStarted += 1
                state.episodes[id] = EpisodeState(observation: Array(observation), requestID: requestID, now: now)
                actingRows.append(row)
            case .step:
                if var episode = state.episodes.removeValue(forKey: id) {
                    if unstored.contains(id) {
                        // Evaluation: summed, never stored.
                    } else if let action = episode.action {
                        builder.append(observation: episode.observation, action: action, reward: reward,
                                       flags: [], nextObservation: observation, episodeID: id,
                                       stepIndex: episode.steps)
                    } else {
                        counters.stepsWithoutAction += 1
                    }
                    episode.record(reward: reward, observation: observation, requestID: requestID, now: now)
                    state.episodes[id] = episode
                } else {
                    counters.episodesStarted += 1
                    counters.stepsWithoutAction += 1
                    state.episodes[id] = EpisodeState(observation: Array(observation), requestID: requestID, now: now)
                }
                actingRows.append(row)
            case .end:
                guard let episode = state.episodes.removeValue(forKey: id) else {
                    counters.endsIgnored += 1
                    continue
                }
                let flags = DoneFlags(rawValue: request.previousDoneFlags[row] & DoneFlags.known)
                var length = episode.steps
                var episodeReturn = episode.episodeReturn
                if !flags.isEmpty {
                    length += 1
                    episodeReturn += Double(reward)
                    if unstored.contains(id) {
                        // Evaluation: summed, never stored.
                    } else if let action = episode.action {
                        builder.append(observation: episode.observation, action: action, reward: reward,
                                       flags: flags, nextObservation: observation, episodeID: id,
                                       stepIndex: episode.steps)
                    } else {
                        counters.stepsWithoutAction += 1
                    }
                }
                counters.episodesEnded += 1
                ended.append(EndedEpisode(session: session, episodeID: id, length: length,
                                          episodeReturn: episodeReturn, duration: episode.startedAt.duration(to: now),
                                          doneFlags: flags))
            }
        }
        sessions[session] = state
        counters.transitionsBuilt += builder.count
        return prepared(request, session: session, requestID: requestID, actingRows: actingRows,
                        transitions: builder, ended: ended, cachedReply: nil, isDuplicate: false)
    }

    /// Builds the reply from the act call's output and records each row's action as its
    /// episode's pending action.
    ///
    /// `actions` holds `prepared.actingCount * actionDimension` normalised values in request
    /// order; `values` (V(s), optional) one per acting row. `END` rows get zero actions and
    /// values. Values are sent only if the request asked for them. Call it once for every
    /// prepared request, also for duplicates (their reply is the original's).
    public mutating func complete(
        _ prepared: PreparedRequest, actions: [Float], values: [Float]?, policyVersion: UInt64
    ) -> ActionReply {
        if let cached = prepared.cachedReply { return cached }
        if let cached = sessions[prepared.session]?.lastReply, cached.requestID == prepared.requestID {
            // The original (or an earlier copy) of this request was answered meanwhile: every copy
            // must carry the same actions, the ones recorded as pending.
            return cached.reply
        }
        let width = actionDimension
        precondition(actions.count == prepared.actingCount * width,
                     "complete got \(actions.count) action values for \(prepared.actingCount) rows of \(width)")
        precondition(values.map { $0.count == prepared.actingCount } ?? true,
                     "complete got \(values?.count ?? 0) values for \(prepared.actingCount) rows")
        var replyActions = [Float](repeating: 0, count: prepared.rowCount * width)
        for (k, row) in prepared.actingRows.enumerated() {
            replyActions.replaceSubrange(row * width ..< (row + 1) * width, with: actions[k * width ..< (k + 1) * width])
        }
        var replyValues: [Float]?
        if prepared.wantValues, let values {
            var perRow = [Float](repeating: 0, count: prepared.rowCount)
            for (k, row) in prepared.actingRows.enumerated() { perRow[row] = values[k] }
            replyValues = perRow
        }
        let reply = ActionReply(policyVersion: policyVersion, actionSize: width, actions: replyActions,
                                values: replyValues)
        counters.rowsServed += prepared.rowCount
        guard var state = sessions.removeValue(forKey: prepared.session) else { return reply }
        for k in prepared.actingRows.indices {
            // Only episodes this request last touched: a later request owns the others' state.
            let id = prepared.actingEpisodeIDs[k]
            guard var episode = state.episodes.removeValue(forKey: id) else { continue }
            if episode.requestID == prepared.requestID {
                episode.action = Array(actions[k * width ..< (k + 1) * width])
            }
            state.episodes[id] = episode
        }
        if state.lastRequestID == prepared.requestID {
            state.lastReply = (prepared.requestID, reply)
        }
        sessions[prepared.session] = state
        return reply
    }

    // MARK: - Validation (before anything changes)

    private func validate(_ request: ActionRequest) throws(SimulatorError) {
        guard request.observationSize == observationDimension else {
            throw .spaceMismatch(field: "action_request.obs_dim", expected: observationDimension,
                                 actual: request.observationSize)
        }
        guard request.actionSize == actionDimension else {
            throw .spaceMismatch(field: "action_request.action_dim", expected: actionDimension,
                                 actual: request.actionSize)
        }
        let n = request.count
        for (field, actual, expected) in [
            ("action_request.observations", request.observations.count, n * observationDimension),
            ("action_request.prev_rewards", request.previousRewards.count, n),
            ("action_request.events", request.events.count, n),
            ("action_request.prev_done_flags", request.previousDoneFlags.count, n),
        ] where actual != expected {
            throw .shapeMismatch(field: field, expected: expected, actual: actual)
        }
        // One row per episode id, except END then START: a vector environment's slot that reset
        // ends its episode and starts the next one under the same id (PROTOCOL.md 5.13).
        var seen = [UInt64: ActionEvent](minimumCapacity: n)
        for row in 0..<n {
            let id = request.episodeIDs[row], event = request.events[row]
            if let first = seen.updateValue(event, forKey: id) {
                // A third row for the id finds START here and is refused.
                guard first == .end && event == .start else { throw .duplicateEpisode(episodeID: id, row: row) }
            }
            if request.events[row] == .step && request.previousDoneFlags[row] != 0 {
                throw .doneFlagsOnStep(row: row)
            }
        }
    }

    /// FULL checks on what the request would leave behind: `END` rows free room first, so an
    /// auto-resetting vector environment at the limit can send `END old` + `START new`.
    private func checkCapacity(for request: ActionRequest, session: UInt64) throws(SimulatorError) {
        guard let state = sessions[session] else {
            guard sessions.count < limits.maxSessions else { throw .tooManySessions(limit: limits.maxSessions) }
            guard newEpisodes(request, known: [:]) <= limits.maxEpisodesPerSession else {
                throw .tooManyEpisodes(session: session, limit: limits.maxEpisodesPerSession)
            }
            return
        }
        var ending = 0
        for row in 0..<request.count where request.events[row] == .end && state.episodes[request.episodeIDs[row]] != nil {
            ending += 1
        }
        let after = state.episodes.count - ending + newEpisodes(request, known: state.episodes)
        guard after <= limits.maxEpisodesPerSession else {
            throw .tooManyEpisodes(session: session, limit: limits.maxEpisodesPerSession)
        }
    }

    /// Acting rows naming episodes not in `known`, or ended by an earlier row of the request.
    private func newEpisodes(_ request: ActionRequest, known: [UInt64: EpisodeState]) -> Int {
        var count = 0
        var ended = Set<UInt64>()
        for row in 0..<request.count {
            let id = request.episodeIDs[row]
            if request.events[row] == .end {
                ended.insert(id)
            } else if known[id] == nil || ended.contains(id) {
                count += 1
            }
        }
        return count
    }

    // MARK: - Helpers

    private mutating func prepareDuplicate(
        _ request: ActionRequest, session: UInt64, requestID: UInt32, state: SessionState,
        now: ContinuousClock.Instant
    ) -> PreparedRequest {
        counters.duplicateRequests += 1
        if var touched = sessions.removeValue(forKey: session) {
            // The simulator is alive and still running these episodes: keep them from eviction.
            touched.lastSeen = now
            for id in request.episodeIDs { touched.episodes[id]?.lastSeen = now }
            sessions[session] = touched
        }
        let cached = state.lastReply.flatMap { $0.requestID == requestID ? $0.reply : nil }
        // Still being served: act again on the same rows so the resend can be answered even if the
        // original never completes; `complete` prefers the original's reply if it comes first.
        let actingRows = cached != nil ? [] : (0..<request.count).filter { request.events[$0] != .end }
        let none = TransitionColumns(rows: 0, observationDimension: observationDimension,
                                     actionDimension: actionDimension)
        return prepared(request, session: session, requestID: requestID, actingRows: actingRows,
                        transitions: none, ended: [], cachedReply: cached, isDuplicate: true)
    }

    /// The prepared request, with the acting rows' observations gathered into one block.
    private func prepared(
        _ request: ActionRequest, session: UInt64, requestID: UInt32, actingRows: [Int],
        transitions: TransitionColumns, ended: [EndedEpisode], cachedReply: ActionReply?, isDuplicate: Bool
    ) -> PreparedRequest {
        let width = observationDimension
        var observations: [Float] = []
        observations.reserveCapacity(actingRows.count * width)
        for row in actingRows {
            observations.append(contentsOf: request.observations[row * width ..< (row + 1) * width])
        }
        return PreparedRequest(
            session: session, requestID: requestID, rowCount: request.count,
            observationDimension: width, actionDimension: actionDimension,
            deterministic: request.deterministic, wantValues: request.wantValues, isDuplicate: isDuplicate,
            actingRows: actingRows, actingEpisodeIDs: actingRows.map { request.episodeIDs[$0] },
            observations: observations, transitions: transitions.batch(), transitionEpisodeIDs: transitions.episodeIDs,
            transitionStepIndices: transitions.stepIndices, transitionDoneFlags: transitions.doneFlags,
            endedEpisodes: ended, cachedReply: cachedReply)
    }
}

// MARK: - State

/// One simulator session: its episodes and the resend cache.
private struct SessionState: Sendable {
    var episodes: [UInt64: EpisodeState] = [:]
    var lastSeen: ContinuousClock.Instant
    /// The newest request handled; a repeat of it is a resend.
    var lastRequestID: UInt32?
    /// The reply to the newest answered request.
    var lastReply: (requestID: UInt32, reply: ActionReply)?

    init(lastSeen: ContinuousClock.Instant) {
        self.lastSeen = lastSeen
    }
}

/// One running episode.
private struct EpisodeState: Sendable {
    /// The observation the pending action was (or will be) chosen for.
    var observation: [Float]
    /// The action replied for `observation`; nil until `complete` records it.
    var action: [Float]?
    /// The request that last named the episode: only its `complete` may set `action`.
    var requestID: UInt32
    /// Rewarded steps so far.
    var steps = 0
    var episodeReturn: Double = 0
    let startedAt: ContinuousClock.Instant
    var lastSeen: ContinuousClock.Instant

    init(observation: [Float], requestID: UInt32, now: ContinuousClock.Instant) {
        self.observation = observation
        self.requestID = requestID
        startedAt = now
        lastSeen = now
    }

    /// A `STEP` row: the step's reward, and the observation to act on next.
    mutating func record(reward: Float, observation: ArraySlice<Float>, requestID: UInt32, now: ContinuousClock.Instant) {
        steps += 1
        episodeReturn += Double(reward)
        self.observation.replaceSubrange(0..., with: observation)
        action = nil
        self.requestID = requestID
        lastSeen = now
    }
}

/// Transition columns grown row by row, then handed to replay as one batch, with each row's
/// episode id, step index and done flags kept for the TRANSITIONS batch that carries them.
private struct TransitionColumns {
    let observationDimension: Int
    let actionDimension: Int
    var observations: [Float] = []
    var actions: [Float] = []
    var rewards: [Float] = []
    var terminations: [Float] = []
    var nextObservations: [Float] = []
    var episodeIDs: [UInt64] = []
    var stepIndices: [UInt32] = []
    var doneFlags: [UInt8] = []

    init(rows: Int, observationDimension: Int, actionDimension: Int) {
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        observations.reserveCapacity(rows * observationDimension)
        nextObservations.reserveCapacity(rows * observationDimension)
        actions.reserveCapacity(rows * actionDimension)
        rewards.reserveCapacity(rows)
        terminations.reserveCapacity(rows)
    }

    var count: Int { rewards.count }

    /// One transition; `flags` are its END row's (empty for a STEP row). Replay's column
    /// terminates on TERMINATED only: truncation bootstraps from the real final observation.
    mutating func append(observation: [Float], action: [Float], reward: Float, flags: DoneFlags,
                         nextObservation: ArraySlice<Float>, episodeID: UInt64, stepIndex: Int) {
        observations.append(contentsOf: observation)
        actions.append(contentsOf: action)
        rewards.append(reward)
        terminations.append(flags.contains(.terminated) ? 1 : 0)
        nextObservations.append(contentsOf: nextObservation)
        episodeIDs.append(episodeID)
        stepIndices.append(UInt32(clamping: stepIndex))
        doneFlags.append(flags.rawValue)
    }

    func batch() -> Replay.TransitionBatch {
        do {
            return try Replay.TransitionBatch(
                observations: observations, actions: actions, rewards: rewards, terminations: terminations,
                nextObservations: nextObservations, observationDimension: observationDimension,
                actionDimension: actionDimension)
        } catch {
            // Every row appends exactly one observation, action, reward, flag and next observation.
            preconditionFailure("transition columns built row by row disagree: \(error)")
        }
    }
}
