import Telemetry
import Wire

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
public typealias StalenessWindow = RingWindow<UInt64>

/// Per-transition policy lag over the recent window (`StalenessWindow`).
public typealias StalenessSummary = WindowSummary<UInt64>

extension RingWindow where Value == UInt64 {
    /// Records the lag of every row of `batch`, accepted while the learner is at `learnerVersion`.
    mutating func record(_ batch: Wire.TransitionBatch, learnerVersion: UInt64) {
        for row in 0 ..< batch.count {
            record(policyLag(learnerVersion, behind: batch.actingVersion(ofRow: row)))
        }
    }
}

/// How many versions `acting` is behind `learner`; 0 for a version from the future.
func policyLag(_ learner: UInt64, behind acting: UInt64) -> UInt64 {
    learner >= acting ? learner - acting : 0
}

/// What ingest counted: replies by kind, per-actor tallies, drops with their reasons, and the
/// staleness window.
///
/// Each counter changes only through the method named after what happened, so a count and the
/// matching per-actor tally never disagree.
public struct IngestCounters: Sendable {
    public private(set) var tallies: [UInt32: ActorTally] = [:]
    public private(set) var tryLaterReplies = 0
    public private(set) var duplicateReplies = 0
    public private(set) var staleDrops = 0
    public private(set) var spaceMismatches = 0
    public private(set) var refusals: [ErrorCode: Int] = [:]
    /// Batches (actors' and simulators') answered TRY_LATER because the write-ahead log failed.
    public private(set) var logFailures = 0
    /// Acknowledged transitions that never reached replay, by reason.
    public private(set) var droppedTransitions: [String: Int] = [:]
    /// Policy lag of the last 16,384 accepted transitions.
    public private(set) var staleness = StalenessWindow(capacity: 16_384)

    public init() {}

    /// A HELLO answered REFUSED with `code`.
    public mutating func countRefusal(_ code: ErrorCode) {
        refusals[code, default: 0] += 1
    }

    /// A HELLO or a batch whose spaces differ from the agreed ones.
    public mutating func countSpaceMismatch() {
        spaceMismatches += 1
    }

    /// A new run of `actorID` said HELLO.
    public mutating func countRun(of actorID: UInt32) {
        tallies[actorID, default: ActorTally()].runs += 1
    }

    /// A resent batch of `actorID` answered DUPLICATE.
    public mutating func countDuplicate(from actorID: UInt32) {
        duplicateReplies += 1
        tallies[actorID, default: ActorTally()].duplicates += 1
    }

    /// A batch of `actorID` answered TRY_LATER (no room, still on its way to disk, or not made durable).
    public mutating func countTryLater(from actorID: UInt32) {
        tryLaterReplies += 1
        tallies[actorID, default: ActorTally()].tryLater += 1
    }

    /// A batch (an actor's or a simulator's) the write-ahead log could not make durable.
    public mutating func countLogFailure() {
        logFailures += 1
    }

    /// A batch of `actorID` acknowledged but dropped for staleness.
    public mutating func countStaleDrop(from actorID: UInt32) {
        staleDrops += 1
        tallies[actorID, default: ActorTally()].staleDropped += 1
    }

    /// An actor's batch stored while the learner is at `learnerVersion`.
    public mutating func countStored(_ batch: Wire.TransitionBatch, learnerVersion: UInt64) {
        staleness.record(batch, learnerVersion: learnerVersion)
        var tally = tallies[batch.actorID, default: ActorTally()]
        tally.transitions += batch.count
        tally.batches += 1
        tally.lastBatchVersion = batch.policyVersion
        tallies[batch.actorID] = tally
    }

    /// `count` simulator transitions stored, acted with `actingVersion` while the learner is at `learnerVersion`.
    public mutating func countSimulatorTransitions(_ count: Int, actingVersion: UInt64, learnerVersion: UInt64) {
        staleness.record(policyLag(learnerVersion, behind: actingVersion), count: count)
    }

    /// Finished episodes `actorID` reported.
    public mutating func countEpisodes(_ episodes: [EpisodeSummary], from actorID: UInt32) {
        var tally = tallies[actorID, default: ActorTally()]
        tally.episodes += episodes.count
        tally.lastReturn = episodes.last?.episodeReturn ?? tally.lastReturn
        tallies[actorID] = tally
    }

    /// `n` acknowledged transitions that never reached replay, with the reason.
    public mutating func countDropped(_ n: Int, reason: String) {
        droppedTransitions[reason, default: 0] += n
    }

    /// The counters a checkpoint keeps, at `envSteps` environment steps.
    public func checkpoint(envSteps: Int) -> LedgerCounters {
        LedgerCounters(
            envSteps: envSteps,
            actors: Dictionary(uniqueKeysWithValues: tallies.map { (String($0.key), $0.value) }),
            duplicates: duplicateReplies, tryLater: tryLaterReplies, staleDropped: staleDrops)
    }

    /// Continues the counters of a checkpoint (its `envSteps` are the admission gate's).
    public mutating func restore(_ counters: LedgerCounters) {
        tallies = Dictionary(uniqueKeysWithValues: counters.actors.compactMap { key, tally in
            UInt32(key).map { ($0, tally) }
        })
        duplicateReplies = counters.duplicates
        tryLaterReplies = counters.tryLater
        staleDrops = counters.staleDropped
    }
}

/// What the training thread publishes for the request handlers: the policy version WELCOME, acks
/// and HEARTBEAT_REPLY carry, the update counts, and the update time the TRY_LATER estimate uses.
///
/// It changes only through `record`, called by the training thread after each update (and once at
/// start, with a checkpoint's values).
public struct TrainingProgress: Sendable, Equatable {
    public private(set) var policyVersion: UInt64 = 0
    public private(set) var updates = 0
    public private(set) var skippedUpdates = 0
    /// Seconds per update (moving average), to tell actors how long to back off.
    public private(set) var secondsPerUpdate = 0.0

    public init() {}

    /// Publishes the training thread's state; `secondsPerUpdate` nil keeps the last estimate.
    public mutating func record(policyVersion: UInt64, updates: Int, skippedUpdates: Int,
                                secondsPerUpdate: Double? = nil) {
        self.policyVersion = policyVersion
        self.updates = updates
        self.skippedUpdates = skippedUpdates
        if let secondsPerUpdate { self.secondsPerUpdate = secondsPerUpdate }
    }
}
