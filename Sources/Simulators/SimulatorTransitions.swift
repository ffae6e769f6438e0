import Wire

extension Wire.TransitionBatch {
    /// The transitions one request completed, as one TRANSITIONS batch.
    ///
    /// Each row keeps its episode id, step index and done flags (TRUNCATED included), so the
    /// write-ahead log and the ingest path see what an actor's batch of the same steps carries.
    /// Actions are clamped to [-1, 1]: the wire refuses anything outside, and a squashing
    /// function can overshoot by an ulp.
    public init(simulator prepared: PreparedRequest, actorID: UInt32, runID: UInt64, seq: UInt64,
                policyVersion: UInt64) {
        let batch = prepared.transitions
        self.init(
            actorID: actorID, runID: runID, seq: seq, policyVersion: policyVersion,
            observationSize: batch.observationDimension, actionSize: batch.actionDimension,
            episodeIDs: prepared.transitionEpisodeIDs, stepIndices: prepared.transitionStepIndices,
            observations: batch.observations, nextObservations: batch.nextObservations,
            actions: batch.actions.map { min(max($0, -1), 1) }, rewards: batch.rewards,
            doneFlags: prepared.transitionDoneFlags)
    }
}
