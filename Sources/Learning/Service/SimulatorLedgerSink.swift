import Replay
import Wire

/// The learner's simulator sink: transitions go into the ingest queue, like an actor's batch.
///
/// The capacity check, `SimulatorEpisodes.handle` and the enqueue happen under one ledger lock,
/// so a request is either applied whole with its transitions queued, or not at all (TRY_LATER
/// leaves the episodes as they were). The training thread then inserts the batch into replay
/// exactly as it inserts an actor's.
struct LedgerSimulatorSink: SimulatorSink {
    let core: LearnerCore

    var agreedSpaces: AgreedSpaces? { core.withLedger { $0.spaces } }

    func admit(upTo count: Int, store: Bool, peer: PeerKey, actingVersion: UInt64,
               prepare: () throws(SimulatorError) -> PreparedRequest) throws(SimulatorError) -> SimulatorAdmission {
        let now = ContinuousClock.now
        let outcome: Result<SimulatorAdmission, SimulatorError> = core.withLedgerAndSignal { ledger in
            if let reply = ledger.simulatorAdmission(count, now: now) {
                ledger.touch(peer, now: now)
                return .success(reply.code == .tryLater ? .wait(reply) : .refuse(reply))
            }
            let prepared: PreparedRequest
            switch Result(catching: { () throws(SimulatorError) -> PreparedRequest in try prepare() }) {
            case .success(let value): prepared = value
            case .failure(let error): return .failure(error)
            }
            if !store || prepared.transitions.count == 0 {
                ledger.touch(peer, now: now)
            } else {
                let batch = Wire.TransitionBatch(simulatorColumns: prepared.transitions, actorID: peer.actorID,
                                                 runID: peer.runID, seq: 0, policyVersion: actingVersion)
                ledger.enqueueSimulatorTransitions(batch, peer: peer, actingVersion: actingVersion, now: now)
            }
            return .success(.prepared(prepared))
        }
        return try outcome.get()
    }
}

extension Wire.TransitionBatch {
    /// Transitions a simulator server built, as one TRANSITIONS batch (terminated bit from the
    /// terminations; truncation bootstraps like a non-terminal step, so it needs no bit).
    ///
    /// Replay keeps no episode ids or step indices, so they travel as zeros.
    public init(simulatorColumns batch: Replay.TransitionBatch, actorID: UInt32, runID: UInt64, seq: UInt64,
                policyVersion: UInt64) {
        self.init(
            actorID: actorID, runID: runID, seq: seq, policyVersion: policyVersion,
            observationSize: batch.observationDimension, actionSize: batch.actionDimension,
            episodeIDs: [UInt64](repeating: 0, count: batch.count),
            stepIndices: [UInt32](repeating: 0, count: batch.count),
            observations: batch.observations, nextObservations: batch.nextObservations,
            actions: batch.actions.map { min(max($0, -1), 1) }, rewards: batch.rewards,
            doneFlags: batch.terminations.map { $0 != 0 ? DoneFlags.terminated.rawValue : 0 })
    }
}
