import Foundation
import Simulators

/// The learner's counters as JSON: written to the stats file every stats interval
/// and at exit, for tests, scripts and the one-machine mode's summary.
public struct LearnerStats: Codable, Sendable {
    public struct Actor: Codable, Sendable {
        public var transitions: Int
        public var batches: Int
        public var duplicates: Int
        public var tryLater: Int
        public var staleDropped: Int
        public var episodes: Int
        public var lastReturn: Double?
        public var lastBatchVersion: UInt64
        /// Runs (process starts) this actor id has said HELLO with. Not the run ids: they name a
        /// run in dedupe and stay between the learner and the peer.
        public var runs: Int
        public var live: Bool
        /// The version the actor last reported acting with.
        public var actingVersion: UInt64?
    }

    public var learnerRunID: UInt64
    public var environment: String
    public var state: String
    public var policyVersion: UInt64
    public var updates: Int
    public var skippedUpdates: Int
    public var envSteps: Int
    public var replaySize: Int
    public var replayBytes: Int
    public var queuedTransitions: Int
    public var liveActors: Int
    /// Connections with a welcomed session now.
    public var sessions: Int
    /// Runs whose dedupe marks the learner holds, and runs whose marks it dropped since it started
    /// (after GOODBYE, a newer run of the same actor id, or the resend horizon).
    public var trackedRuns: Int
    public var prunedRuns: Int
    public var duplicates: Int
    public var tryLater: Int
    public var staleDropped: Int
    public var spaceMismatches: Int
    public var refusals: [String: Int]
    public var insertBlockedSeconds: Double
    public var sampleBlockedSeconds: Double
    /// Per-transition policy lag over the last accepted transitions.
    public var staleness: StalenessSummary?
    public var lastLoss: Float?
    public var meanRecentReturn: Double?
    public var actors: [String: Actor]
    /// The simulator server's counters (ACTION_REQUEST), nil where there is none.
    public var simulators: SimulatorServerStats?
    /// The write-ahead log: records, syncs, failures, bytes on disk.
    public var writeAheadLog: WriteAheadLog.Stats?
    /// Batches answered TRY_LATER because the log could not make them durable.
    public var logFailures: Int
    /// Acknowledged transitions that never reached replay, by reason.
    public var droppedTransitions: [String: Int]
    public var elapsedSeconds: Double

    init(ledger: IngestLedger, replayBytes: Int, lastLoss: Float?, elapsed: Duration) {
        learnerRunID = ledger.learnerRunID
        environment = ledger.envID
        state = switch ledger.shutdown {
        // The networks are built for the spaces the first peer's HELLO brings (`external`, a preset).
        case .running where ledger.spaces == nil: "waiting-for-first-peer"
        case .running: "running"
        case .stopping: "stopping"
        case .finished: "finished"
        }
        policyVersion = ledger.policyVersion
        updates = ledger.updates
        skippedUpdates = ledger.skippedUpdates
        envSteps = ledger.acceptedTransitions
        replaySize = ledger.replaySize
        self.replayBytes = replayBytes
        queuedTransitions = ledger.queuedTransitions
        liveActors = ledger.liveActors
        sessions = ledger.sessions.count
        trackedRuns = ledger.trackedRuns
        prunedRuns = ledger.prunedRuns
        duplicates = ledger.duplicateReplies
        tryLater = ledger.tryLaterReplies
        staleDropped = ledger.staleDrops
        spaceMismatches = ledger.spaceMismatches
        logFailures = ledger.logFailures
        droppedTransitions = ledger.droppedTransitions
        refusals = Dictionary(uniqueKeysWithValues: ledger.refusals.map { ($0.key.name, $0.value) })
        insertBlockedSeconds = ledger.insertBlocked.seconds
        sampleBlockedSeconds = ledger.limiter.sampleWait.seconds
        staleness = ledger.staleness.summary
        self.lastLoss = lastLoss
        meanRecentReturn = ledger.episodes.meanRecentReturn
        var actors: [String: Actor] = [:]
        for (id, tally) in ledger.tallies {
            let peer = ledger.peers.values.first { $0.key.actorID == id && $0.role == .actor }
            actors[String(id)] = Actor(
                transitions: tally.transitions, batches: tally.batches, duplicates: tally.duplicates,
                tryLater: tally.tryLater, staleDropped: tally.staleDropped, episodes: tally.episodes,
                lastReturn: tally.lastReturn, lastBatchVersion: tally.lastBatchVersion,
                runs: tally.runs, live: peer != nil, actingVersion: peer?.actingVersion)
        }
        self.actors = actors
        elapsedSeconds = elapsed.seconds
    }

    /// Writes the JSON to `path` through a temporary file, so readers never see half of it.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let temporary = path + ".tmp"
        try data.write(to: URL(fileURLWithPath: temporary))
        if rename(temporary, path) != 0 {
            throw LearnerError.io(path: path, reason: String(cString: strerror(errno)))
        }
    }
}
