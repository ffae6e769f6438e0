// Experience upload: TRANSITIONS, TRANSITIONS_ACK, EPISODE_STATS (PROTOCOL.md 5.8 to 5.10).

// MARK: - TRANSITIONS

/// A batch of transitions from one actor, stored column by column.
///
/// `(actorID, runID, seq)` names the batch so a resent request is stored once (REQ resends after
/// a timeout or reconnect). Columns are row-major: transition `i`'s observation is
/// `observations[i * observationSize ..< (i + 1) * observationSize]`.
public struct TransitionBatch: PayloadCodable {
    static var messageType: MessageType { .transitions }

    public var actorID: UInt32
    public var runID: UInt64
    /// Batch number within the run, from 0.
    public var seq: UInt64
    /// The oldest policy version that chose an action in the batch.
    public var policyVersion: UInt64
    /// `d_o`.
    public var observationSize: Int
    /// `d_a`.
    public var actionSize: Int
    public var episodeIDs: [UInt64]
    /// Step index of each transition within its episode.
    public var stepIndices: [UInt32]
    public var observations: [Float]
    /// The real next observation, also on truncation.
    public var nextObservations: [Float]
    /// Normalised to [-1, 1].
    public var actions: [Float]
    public var rewards: [Float]
    /// `DoneFlags` raw values.
    public var doneFlags: [UInt8]
    /// Per row, the acting version minus `policyVersion` (the `acting_versions` extension record);
    /// nil: every row counts as acted by `policyVersion`.
    public var actingVersionOffsets: [UInt32]?

    public init(actorID: UInt32, runID: UInt64, seq: UInt64, policyVersion: UInt64, observationSize: Int,
                actionSize: Int, episodeIDs: [UInt64], stepIndices: [UInt32], observations: [Float],
                nextObservations: [Float], actions: [Float], rewards: [Float], doneFlags: [UInt8],
                actingVersionOffsets: [UInt32]? = nil) {
        self.actingVersionOffsets = actingVersionOffsets
        self.actorID = actorID
        self.runID = runID
        self.seq = seq
        self.policyVersion = policyVersion
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.episodeIDs = episodeIDs
        self.stepIndices = stepIndices
        self.observations = observations
        self.nextObservations = nextObservations
        self.actions = actions
        self.rewards = rewards
        self.doneFlags = doneFlags
    }

    /// Transitions in the batch.
    public var count: Int { episodeIDs.count }

    /// Exact payload size without extensions, for reserving the frame once.
    var bodySize: Int { 40 + count * (17 + 8 * observationSize + 4 * actionSize) }

    func validate(limits: WireLimits) throws(WireError) {
        try Check.count(count, limit: limits.maxTransitionsPerBatch, field: "transitions.count")
        try Self.checkDimension(observationSize, limit: limits.maxObservationElements, field: "transitions.obs_dim")
        try Self.checkDimension(actionSize, limit: limits.maxActionElements, field: "transitions.action_dim")
        try Check.shape(stepIndices.count, rows: count, width: 1, field: "transitions.step_indices")
        try Check.shape(observations.count, rows: count, width: observationSize, field: "transitions.observations")
        try Check.shape(nextObservations.count, rows: count, width: observationSize,
                        field: "transitions.next_observations")
        try Check.shape(actions.count, rows: count, width: actionSize, field: "transitions.actions")
        try Check.shape(rewards.count, rows: count, width: 1, field: "transitions.rewards")
        try Check.shape(doneFlags.count, rows: count, width: 1, field: "transitions.done_flags")
        try Check.finite(observations, field: "transitions.observations")
        try Check.finite(nextObservations, field: "transitions.next_observations")
        try Check.unitInterval(actions, field: "transitions.actions")
        try Check.finite(rewards, field: "transitions.rewards")
        try Check.doneFlags(doneFlags, field: "transitions.done_flags")
        if let actingVersionOffsets {
            try Check.shape(actingVersionOffsets.count, rows: count, width: 1,
                            field: "transitions.extensions.acting_versions")
        }
    }

    /// The version that chose row `row`'s action.
    public func actingVersion(ofRow row: Int) -> UInt64 {
        guard let actingVersionOffsets else { return policyVersion }
        let (sum, overflow) = policyVersion.addingReportingOverflow(UInt64(actingVersionOffsets[row]))
        return overflow ? .max : sum
    }

    /// Dimensions are 1...limit.
    static func checkDimension(_ value: Int, limit: Int, field: String) throws(WireError) {
        try Check.count(value, limit: limit, field: field)
        if value < 1 { throw .invalidValue(field: field, index: 0) }
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt32LE(actorID)
        writer.writeCount(count)
        writer.writeUInt64LE(runID)
        writer.writeUInt64LE(seq)
        writer.writeUInt64LE(policyVersion)
        writer.writeCount(observationSize)
        writer.writeCount(actionSize)
        writer.writeUInt64ColumnLE(episodeIDs)
        writer.writeUInt32ColumnLE(stepIndices)
        writer.writeFloat32ColumnLE(observations)
        writer.writeFloat32ColumnLE(nextObservations)
        writer.writeFloat32ColumnLE(actions)
        writer.writeFloat32ColumnLE(rewards)
        writer.writeBytes(doneFlags)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> TransitionBatch {
        let actorID = try reader.readUInt32LE()
        let count = try reader.readCount("transitions.count", limit: limits.maxTransitionsPerBatch)
        let runID = try reader.readUInt64LE()
        let seq = try reader.readUInt64LE()
        let policyVersion = try reader.readUInt64LE()
        let observationSize = try reader.readCount("transitions.obs_dim", limit: limits.maxObservationElements)
        if observationSize < 1 { throw .invalidValue(field: "transitions.obs_dim", index: 0) }
        let actionSize = try reader.readCount("transitions.action_dim", limit: limits.maxActionElements)
        if actionSize < 1 { throw .invalidValue(field: "transitions.action_dim", index: 0) }
        try reader.need(rows: count, rowBytes: 17 + 8 * observationSize + 4 * actionSize)
        let observationElements = try reader.elements(count, observationSize)
        let actionElements = try reader.elements(count, actionSize)

        let episodeIDs = try reader.readUInt64ColumnLE(count: count)
        let stepIndices = try reader.readUInt32ColumnLE(count: count)
        let observations = try reader.readFiniteColumn(count: observationElements, "transitions.observations")
        let nextObservations = try reader.readFiniteColumn(count: observationElements,
                                                           "transitions.next_observations")
        let actions = try reader.readFloat32ColumnLE(count: actionElements)
        try Check.unitInterval(actions, field: "transitions.actions")
        let rewards = try reader.readFiniteColumn(count: count, "transitions.rewards")
        let doneFlags = try reader.readByteColumn(count: count)
        try Check.doneFlags(doneFlags, field: "transitions.done_flags")
        return TransitionBatch(
            actorID: actorID, runID: runID, seq: seq, policyVersion: policyVersion,
            observationSize: observationSize, actionSize: actionSize, episodeIDs: episodeIDs,
            stepIndices: stepIndices, observations: observations, nextObservations: nextObservations,
            actions: actions, rewards: rewards, doneFlags: doneFlags)
    }
}

// MARK: - TRANSITIONS_ACK

/// The learner's answer to a batch, carrying its backpressure decision.
public struct TransitionsAck: PayloadCodable {
    static var messageType: MessageType { .transitionsAck }

    public var seq: UInt64
    /// The learner's current policy version (a hint to fetch weights).
    public var policyVersion: UInt64
    /// With `.tryLater`: resend this batch after this long.
    public var retryAfterMs: UInt32
    public var status: TransitionsStatus

    public init(seq: UInt64, policyVersion: UInt64, retryAfterMs: UInt32 = 0, status: TransitionsStatus) {
        self.seq = seq
        self.policyVersion = policyVersion
        self.retryAfterMs = retryAfterMs
        self.status = status
    }

    func validate(limits: WireLimits) throws(WireError) {}

    func write(to writer: inout WireWriter) {
        writer.writeUInt64LE(seq)
        writer.writeUInt64LE(policyVersion)
        writer.writeUInt32LE(retryAfterMs)
        writer.writeUInt8(status.rawValue)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> TransitionsAck {
        TransitionsAck(seq: try reader.readUInt64LE(), policyVersion: try reader.readUInt64LE(),
                       retryAfterMs: try reader.readUInt32LE(),
                       status: try reader.readEnum(TransitionsStatus.self, "transitions_ack.status"))
    }
}

// MARK: - EPISODE_STATS

/// One finished episode.
public struct EpisodeSummary: Equatable, Sendable {
    public var episodeID: UInt64
    /// Seed given to `reset`, or `EpisodeSummary.noSeed`.
    public var seed: UInt64
    /// Undiscounted return.
    public var episodeReturn: Double
    /// Wall-clock duration.
    public var seconds: Double
    /// Steps.
    public var length: UInt32

    /// The seed value that means the episode was not reseeded.
    public static let noSeed = UInt64.max

    public init(episodeID: UInt64, seed: UInt64, episodeReturn: Double, seconds: Double, length: UInt32) {
        self.episodeID = episodeID
        self.seed = seed
        self.episodeReturn = episodeReturn
        self.seconds = seconds
        self.length = length
    }
}

/// Finished episodes for learning curves; sent as columns, held as rows (there are few).
public struct EpisodeStats: PayloadCodable {
    static var messageType: MessageType { .episodeStats }

    public var actorID: UInt32
    public var runID: UInt64
    public var episodes: [EpisodeSummary]

    public init(actorID: UInt32, runID: UInt64, episodes: [EpisodeSummary]) {
        self.actorID = actorID
        self.runID = runID
        self.episodes = episodes
    }

    func validate(limits: WireLimits) throws(WireError) {
        try Check.count(episodes.count, limit: limits.maxEpisodesPerMessage, field: "episode_stats.count")
        try Check.finite(episodes.map(\.episodeReturn), field: "episode_stats.returns")
        try Self.checkSeconds(episodes.map(\.seconds))
    }

    private static func checkSeconds(_ seconds: [Double]) throws(WireError) {
        try Check.finite(seconds, field: "episode_stats.seconds")
        if let index = seconds.firstIndex(where: { $0 < 0 }) {
            throw .invalidValue(field: "episode_stats.seconds", index: index)
        }
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt32LE(actorID)
        writer.writeCount(episodes.count)
        writer.writeUInt64LE(runID)
        writer.writeUInt64ColumnLE(episodes.map(\.episodeID))
        writer.writeUInt64ColumnLE(episodes.map(\.seed))
        writer.writeFloat64ColumnLE(episodes.map(\.episodeReturn))
        writer.writeFloat64ColumnLE(episodes.map(\.seconds))
        writer.writeUInt32ColumnLE(episodes.map(\.length))
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> EpisodeStats {
        let actorID = try reader.readUInt32LE()
        let count = try reader.readCount("episode_stats.count", limit: limits.maxEpisodesPerMessage)
        let runID = try reader.readUInt64LE()
        try reader.need(rows: count, rowBytes: 36)
        let episodeIDs = try reader.readUInt64ColumnLE(count: count)
        let seeds = try reader.readUInt64ColumnLE(count: count)
        let returns = try reader.readFloat64ColumnLE(count: count)
        try Check.finite(returns, field: "episode_stats.returns")
        let seconds = try reader.readFloat64ColumnLE(count: count)
        try checkSeconds(seconds)
        let lengths = try reader.readUInt32ColumnLE(count: count)
        let episodes = (0 ..< count).map {
            EpisodeSummary(episodeID: episodeIDs[$0], seed: seeds[$0], episodeReturn: returns[$0],
                           seconds: seconds[$0], length: lengths[$0])
        }
        return EpisodeStats(actorID: actorID, runID: runID, episodes: episodes)
    }
}
