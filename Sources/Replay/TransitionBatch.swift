/// Transitions in columns: what replay takes in bulk and what sampling fills.
///
/// Each column is one flat row-major `[Float]`: row `i` of `observations` is
/// `observations[i * observationDimension ..< (i + 1) * observationDimension]`.
/// Columns are the layout the learner's loss reads and the wire carries, so a
/// batch moves between them without reshaping. `terminations` holds 0 or 1 so the
/// loss can use it as a float mask (`1 - done`).
public struct TransitionBatch: Sendable, Equatable {
    /// Rows in the batch.
    public let count: Int
    /// Components per observation.
    public let observationDimension: Int
    /// Components per action.
    public let actionDimension: Int

    /// `count * observationDimension` observations s.
    public internal(set) var observations: [Float]
    /// `count * actionDimension` actions a, in the policy's [-1, 1] units (docs/algorithm.md §7.13).
    public internal(set) var actions: [Float]
    /// `count` rewards r.
    public internal(set) var rewards: [Float]
    /// `count` flags, 1 where s' is terminal (no bootstrap), 0 otherwise (truncation included).
    public internal(set) var terminations: [Float]
    /// `count * observationDimension` next observations s', the real final one on truncation.
    public internal(set) var nextObservations: [Float]
    /// For a sampled batch, the ring slot each row came from; empty for a batch built to insert.
    public internal(set) var slots: [Int]

    /// A zero-filled batch of `count` rows, to pass to `ReplayBuffer.sample(into:using:)`.
    ///
    /// Allocate it once and reuse it: sampling then allocates nothing.
    public init(count: Int, observationDimension: Int, actionDimension: Int) {
        precondition(count >= 1, "a batch needs at least one row, got \(count)")
        self.init(zeroedRows: count, observationDimension: observationDimension, actionDimension: actionDimension)
        slots = Array(repeating: 0, count: count)
    }

    /// Zero-filled columns without slots: also the ring storage of `ReplayBuffer`.
    init(zeroedRows count: Int, observationDimension: Int, actionDimension: Int) {
        precondition(observationDimension >= 1 && actionDimension >= 1, "dimensions must be at least 1")
        self.count = count
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        observations = Array(repeating: 0, count: count * observationDimension)
        actions = Array(repeating: 0, count: count * actionDimension)
        rewards = Array(repeating: 0, count: count)
        terminations = Array(repeating: 0, count: count)
        nextObservations = Array(repeating: 0, count: count * observationDimension)
        slots = []
    }

    /// A batch from columns, checked for consistent lengths and 0/1 termination flags.
    ///
    /// The row count is `rewards.count`. Columns may come from the network, so every
    /// mismatch is a thrown error, never a trap.
    public init(
        observations: [Float], actions: [Float], rewards: [Float], terminations: [Float],
        nextObservations: [Float], observationDimension: Int, actionDimension: Int
    ) throws(ReplayError) {
        guard observationDimension >= 1, actionDimension >= 1 else {
            throw .invalidDimensions(observation: observationDimension, action: actionDimension)
        }
        let count = rewards.count
        let (observationCount, overflow) = count.multipliedReportingOverflow(by: observationDimension)
        let (actionCount, actionOverflow) = count.multipliedReportingOverflow(by: actionDimension)
        guard !overflow, !actionOverflow else {
            throw .shapeMismatch(field: "rewards", expected: 0, actual: count)
        }
        for (field, column, expected) in [
            ("observations", observations, observationCount), ("actions", actions, actionCount),
            ("terminations", terminations, count), ("next observations", nextObservations, observationCount),
        ] where column.count != expected {
            throw .shapeMismatch(field: field, expected: expected, actual: column.count)
        }
        if let bad = terminations.first(where: { $0 != 0 && $0 != 1 }) { throw .invalidTermination(bad) }
        self.count = count
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        self.observations = observations
        self.actions = actions
        self.rewards = rewards
        self.terminations = terminations
        self.nextObservations = nextObservations
        self.slots = []
    }
}
