import Synchronization

/// The deterministic evaluation episodes a learner runs through its simulators (PROTOCOL.md 5.15).
///
/// At each `eval-every` boundary the training thread opens a round of N episodes with reset
/// seeds 0 ..< N, as built-in evaluation uses. The simulator server hands the seeds out, one at a
/// time per simulator granted the EVALUATION capability, in the EVALUATE record of its replies;
/// the simulator starts its next episode with that seed and names it in EVALUATION_STARTS; the
/// server acts deterministically for it, stores none of its transitions, and sums its rewards.
/// When every seed has a finished episode the round is complete and the training thread logs
/// `Test/return` at the round's step. A plain value: the clock-free rules are testable alone.
public struct EvaluationSchedule: Sendable, Equatable {
    /// One finished evaluation episode.
    public struct Result: Sendable, Equatable {
        public var seed: UInt64
        public var episodeReturn: Double
        public var length: Int
    }

    /// A complete round.
    public struct Completed: Sendable, Equatable {
        /// The env step the round was opened at (where `Test/return` is logged).
        public var step: Int
        /// One result per seed, in seed order.
        public var results: [Result]
        public var meanReturn: Double { results.map(\.episodeReturn).reduce(0, +) / Double(max(1, results.count)) }
    }

    private struct Round: Sendable, Equatable {
        var step: Int
        var unassigned: [UInt64]
        /// Seeds sent to a session and not yet started there.
        var assigned: [UInt64: [UInt64]] = [:]
        /// Running evaluation episodes: (session, episode id) to seed.
        var running: [EpisodeKey: UInt64] = [:]
        var results: [UInt64: Result] = [:]
        var episodes: Int
    }

    private struct EpisodeKey: Hashable, Sendable {
        var session: UInt64
        var episode: UInt64
    }

    private var round: Round?
    private var completed: [Completed] = []
    /// Evaluation episodes no round records (a seed not assigned, or a round replaced): still
    /// acted deterministically and kept out of replay until they end, as the simulator expects.
    private var strays: Set<EpisodeKey> = []
    /// Sessions granted the EVALUATION capability.
    public private(set) var sessions: Set<UInt64> = []

    public init() {}

    /// Whether a round is open.
    public var isOpen: Bool { round != nil }

    /// Whether training should wait for the open round: some simulator can run it.
    public var holdsTraining: Bool { round != nil && !sessions.isEmpty }

    /// Opens a round of `episodes` seeds 0 ..< episodes at env step `step`; an open round is
    /// replaced (its simulators finish their episodes unrecorded).
    public mutating func open(step: Int, episodes: Int) {
        if let round { strays.formUnion(round.running.keys) }
        round = Round(step: step, unassigned: (0 ..< UInt64(max(1, episodes))).map { $0 }, episodes: max(1, episodes))
    }

    /// A session that may evaluate (granted at WELCOME).
    public mutating func add(session: UInt64) {
        sessions.insert(session)
    }

    /// A session that ended (GOODBYE, silence): its seeds go back to be handed out again.
    public mutating func remove(session: UInt64) {
        sessions.remove(session)
        strays = strays.filter { $0.session != session }
        guard var round else { return }
        if let seeds = round.assigned.removeValue(forKey: session) { round.unassigned.insert(contentsOf: seeds, at: 0) }
        for (key, seed) in round.running where key.session == session {
            round.running[key] = nil
            round.unassigned.insert(seed, at: 0)
        }
        self.round = round
    }

    /// Seeds to send in a reply to `session`: those it holds and has not started (repeated until
    /// it does), else its share of the seeds left when it runs none, split over the simulators
    /// that run none, so one simulator runs a whole round back to back and several share it.
    public mutating func assignment(for session: UInt64) -> [UInt64] {
        guard var round, sessions.contains(session) else { return [] }
        if let held = round.assigned[session], !held.isEmpty { return held }
        guard !round.unassigned.isEmpty, !round.running.keys.contains(where: { $0.session == session }) else { return [] }
        let idle = sessions.filter { other in
            round.assigned[other, default: []].isEmpty && !round.running.keys.contains { $0.session == other }
        }
        let share = (round.unassigned.count + idle.count - 1) / max(1, idle.count)
        let seeds = Array(round.unassigned.prefix(max(1, share)))
        round.unassigned.removeFirst(seeds.count)
        round.assigned[session] = seeds
        self.round = round
        return seeds
    }

    /// A simulator started `episode` as the evaluation episode of `seed`; false (ignore it) when
    /// the seed was not assigned to that session in the open round.
    public mutating func start(session: UInt64, episode: UInt64, seed: UInt64) -> Bool {
        guard var round, var seeds = round.assigned[session], let index = seeds.firstIndex(of: seed) else {
            strays.insert(EpisodeKey(session: session, episode: episode))
            return false
        }
        seeds.remove(at: index)
        round.assigned[session] = seeds.isEmpty ? nil : seeds
        round.running[EpisodeKey(session: session, episode: episode)] = seed
        self.round = round
        return true
    }

    /// Whether `episode` of `session` is a running evaluation episode.
    public func isEvaluating(session: UInt64, episode: UInt64) -> Bool {
        let key = EpisodeKey(session: session, episode: episode)
        return round?.running[key] != nil || strays.contains(key)
    }

    /// Whether `session` runs an episode for a seed of the open round.
    public func isRunningRound(session: UInt64) -> Bool {
        round?.running.keys.contains { $0.session == session } ?? false
    }

    /// Whether `episode` of `session` runs for a seed of the open round (its result counts).
    public func isRecorded(session: UInt64, episode: UInt64) -> Bool {
        round?.running[EpisodeKey(session: session, episode: episode)] != nil
    }

    /// An evaluation episode ended: recorded when `finished` (terminated or truncated), else its
    /// seed is handed out again. Completes the round once every seed has a result.
    public mutating func end(session: UInt64, episode: UInt64, episodeReturn: Double, length: Int, finished: Bool) {
        if strays.remove(EpisodeKey(session: session, episode: episode)) != nil { return }
        guard var round, let seed = round.running.removeValue(forKey: EpisodeKey(session: session, episode: episode))
        else { return }
        if finished {
            round.results[seed] = Result(seed: seed, episodeReturn: episodeReturn, length: length)
        } else {
            round.unassigned.insert(seed, at: 0)
        }
        if round.results.count == round.episodes {
            completed.append(Completed(step: round.step, results: round.results.values.sorted { $0.seed < $1.seed }))
            self.round = nil
        } else {
            self.round = round
        }
    }

    /// Rounds completed since the last call, oldest first.
    public mutating func takeCompleted() -> [Completed] {
        defer { completed = [] }
        return completed
    }
}

/// The schedule behind a lock, shared by the training thread and the simulator server thread.
public final class SimulatorEvaluator: Sendable {
    private let schedule = Mutex(EvaluationSchedule())
    private let onComplete: @Sendable () -> Void

    /// `onComplete` runs (outside the lock) when a round completes or stops holding training (its
    /// last simulator left): it wakes the training thread.
    public init(onComplete: @escaping @Sendable () -> Void = {}) {
        self.onComplete = onComplete
    }

    /// Whether an open round holds training; a read that never completes a round, so it may be
    /// called with the training thread's lock held.
    public var holdsTraining: Bool { schedule.withLock { $0.holdsTraining } }

    /// Runs `body` on the schedule under the lock; wakes the training thread if a round completed
    /// or training is no longer held.
    public func withSchedule<T: Sendable>(_ body: (inout EvaluationSchedule) -> T) -> T {
        let (value, done) = schedule.withLock { schedule -> (T, Bool) in
            let (wasOpen, wasHolding) = (schedule.isOpen, schedule.holdsTraining)
            let value = body(&schedule)
            return (value, (wasOpen && !schedule.isOpen) || (wasHolding && !schedule.holdsTraining))
        }
        if done { onComplete() }
        return value
    }
}
