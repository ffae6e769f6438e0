import Foundation

/// An actor's counters as JSON: written every second and at exit, for tests and scripts.
public struct ActorStats: Codable, Sendable, Equatable {
    public var actorID: UInt32
    public var runID: UInt64
    public var actorSeed: UInt64
    public var environmentSeeds: [UInt64]
    /// running, finished, run-over or error.
    public var state = "running"
    public var envSteps = 0
    public var episodes = 0
    public var lastReturn: Double?
    public var batchesSent = 0
    public var batchesAcked = 0
    public var transitionsAcked = 0
    public var duplicates = 0
    public var tryLater = 0
    public var outboxBatches = 0
    /// Episodes an unstable simulation ended; their last transitions were dropped, not sent.
    public var unstableEpisodes = 0
    /// Transitions thrown away before upload, by reason.
    public var droppedTransitions: [String: Int] = [:]
    /// The version the policy acts with (0: random actions).
    public var heldVersion: UInt64 = 0
    /// Every version loaded, in order (the first 1000).
    public var weightsVersions: [UInt64] = []
    public var hellos = 0
    /// Learner run ids met, in order (a second one means the learner restarted).
    public var learnerRuns: [UInt64] = []
    /// Welcomes by a learner run other than the previous one (each drops the weights held).
    public var newLearnerWelcomes = 0
    /// Milliseconds from the last welcome by a new learner run to the first weights of that run
    /// loaded; nil until then (or while that learner has published none).
    public var weightsAfterNewLearnerMs: Double?
    public var elapsedSeconds = 0.0

    public init(actorID: UInt32, runID: UInt64, actorSeed: UInt64, environmentSeeds: [UInt64]) {
        self.actorID = actorID
        self.runID = runID
        self.actorSeed = actorSeed
        self.environmentSeeds = environmentSeeds
    }

    /// Writes the JSON to `path` through a temporary file, so readers never see half of it.
    public func write(to path: String) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let temporary = path + ".tmp"
        try encoder.encode(self).write(to: URL(fileURLWithPath: temporary))
        _ = rename(temporary, path)
    }
}
