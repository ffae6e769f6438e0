import Wire

/// Packs single transitions into TRANSITIONS batches (Acme's adder, for the wire).
///
/// Rows go into columns as they arrive; a batch leaves when it holds `batchSize`
/// rows, or when its oldest row has waited `interval` (so a slow environment still
/// uploads steadily). Each batch gets the next `seq` of this run and the oldest policy
/// version among its rows, as the protocol asks, and each row its own version (the
/// `acting_versions` record), so the learner measures staleness per transition.
public struct TransitionAdder: Sendable {
    public let actorID: UInt32
    public let runID: UInt64
    public let observationSize: Int
    public let actionSize: Int
    public let batchSize: Int
    public let interval: Duration
    /// The seq the next batch gets.
    public private(set) var nextSeq: UInt64 = 0

    private var episodeIDs: [UInt64] = []
    private var stepIndices: [UInt32] = []
    private var observations: [Float] = []
    private var nextObservations: [Float] = []
    private var actions: [Float] = []
    private var rewards: [Float] = []
    private var doneFlags: [UInt8] = []
    private var versions: [UInt64] = []
    private var firstAt: ContinuousClock.Instant?

    public init(actorID: UInt32, runID: UInt64, observationSize: Int, actionSize: Int, batchSize: Int,
                interval: Duration) {
        precondition(batchSize >= 1, "a batch holds at least one transition")
        self.actorID = actorID
        self.runID = runID
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.batchSize = batchSize
        self.interval = interval
    }

    /// Rows waiting for the next batch.
    public var pendingCount: Int { rewards.count }

    /// Adds one transition; returns a batch when this row fills one.
    ///
    /// `action` is in the policy's [-1, 1] units; it is clamped there because the wire
    /// refuses anything outside (rounding in a squashing function can overshoot by an ulp).
    public mutating func add(observation: [Float], action: [Float], reward: Float, nextObservation: [Float],
                             terminated: Bool, truncated: Bool, episodeID: UInt64, stepIndex: UInt32,
                             policyVersion: UInt64, now: ContinuousClock.Instant) -> Wire.TransitionBatch? {
        precondition(observation.count == observationSize && nextObservation.count == observationSize
                     && action.count == actionSize, "transition does not match the adder's sizes")
        if firstAt == nil { firstAt = now }
        episodeIDs.append(episodeID)
        stepIndices.append(stepIndex)
        observations.append(contentsOf: observation)
        nextObservations.append(contentsOf: nextObservation)
        actions.append(contentsOf: action.map { min(max($0, -1), 1) })
        rewards.append(reward)
        var flags = DoneFlags()
        if terminated { flags.insert(.terminated) }
        if truncated { flags.insert(.truncated) }
        doneFlags.append(flags.rawValue)
        versions.append(policyVersion)
        return pendingCount >= batchSize ? flush() : nil
    }

    /// The partial batch, if its oldest row has waited `interval`.
    public mutating func takeIfDue(now: ContinuousClock.Instant) -> Wire.TransitionBatch? {
        guard let firstAt, now - firstAt >= interval else { return nil }
        return flush()
    }

    /// Whatever is pending, as a batch (nil when empty).
    public mutating func flush() -> Wire.TransitionBatch? {
        guard pendingCount > 0 else { return nil }
        let oldest = versions.min() ?? 0
        let batch = Wire.TransitionBatch(
            actorID: actorID, runID: runID, seq: nextSeq, policyVersion: oldest,
            observationSize: observationSize, actionSize: actionSize, episodeIDs: episodeIDs,
            stepIndices: stepIndices, observations: observations, nextObservations: nextObservations,
            actions: actions, rewards: rewards, doneFlags: doneFlags,
            actingVersionOffsets: versions.map { UInt32(clamping: $0 - oldest) })
        nextSeq += 1
        episodeIDs.removeAll(keepingCapacity: true)
        stepIndices.removeAll(keepingCapacity: true)
        observations.removeAll(keepingCapacity: true)
        nextObservations.removeAll(keepingCapacity: true)
        actions.removeAll(keepingCapacity: true)
        rewards.removeAll(keepingCapacity: true)
        doneFlags.removeAll(keepingCapacity: true)
        versions.removeAll(keepingCapacity: true)
        firstAt = nil
        return batch
    }
}
