import Replay
import Wire

/// The learner's simulator sink: transitions go through the write-ahead log into the ingest
/// queue, like an actor's batch.
///
/// The capacity check, `SimulatorEpisodes.handle`, the reservation and the append to the log
/// happen under one ledger lock, so a request is either applied whole with its room held, or not
/// at all (TRY_LATER leaves the episodes as they were). Once the log has the batch, its
/// completion queues it for the training thread (in log order) and settles the receipt the
/// reply waits on.
struct LedgerSimulatorSink: SimulatorSink {
    let core: LearnerCore
    let log: WriteAheadLog

    var agreedSpaces: AgreedSpaces? { core.withLedger { $0.spaces } }

    func admit(upTo count: Int, store: Bool, evaluating: Bool, peer: PeerKey, actingVersion: UInt64,
               prepare: () throws(SimulatorError) -> PreparedRequest) throws(SimulatorError) -> SimulatorAdmission {
        let now = ContinuousClock.now
        let (core, log) = (self.core, self.log)
        let outcome: Result<SimulatorAdmission, SimulatorError> = core.withLedgerAndSignal { ledger in
            // Evaluation holds training, so only a stop may turn a request with evaluation rows away.
            if let reply = ledger.simulatorAdmission(count, now: now), !(evaluating && reply.code == .tryLater) {
                ledger.touch(peer, now: now)
                return .success(reply.code == .tryLater ? .wait(reply) : .refuse(reply))
            }
            let prepared: PreparedRequest
            switch Result(catching: { () throws(SimulatorError) -> PreparedRequest in try prepare() }) {
            case .success(let value): prepared = value
            case .failure(let error): return .failure(error)
            }
            guard store && prepared.transitions.count > 0 else {
                ledger.touch(peer, now: now)
                return .success(.prepared(prepared))
            }
            let batch = Wire.TransitionBatch(simulatorColumns: prepared.transitions, actorID: peer.actorID,
                                             runID: peer.runID, seq: 0, policyVersion: actingVersion)
            ledger.reserveSimulatorTransitions(batch.count, peer: peer, now: now)
            let receipt = StoreReceipt()
            log.append(.batch(batch, marked: false)) { durable in
                let stored: Bool
                if case .success = durable { stored = true } else { stored = false }
                core.withLedgerAndSignal { $0.commitSimulatorTransitions(batch, actingVersion: actingVersion, durable: stored) }
                guard case .failure(let error) = durable else { return receipt.complete(nil) }
                receipt.complete(ErrorReply(
                    code: .tryLater, failedType: MessageType.actionRequest.rawValue, retryAfterMs: 1000,
                    text: "the learner could not make this request's transitions durable (\(error)); say HELLO again"))
            }
            return .success(.prepared(prepared, receipt: receipt))
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
                policyVersion: UInt64, actingVersionOffsets: [UInt32]? = nil) {
        self.init(
            actorID: actorID, runID: runID, seq: seq, policyVersion: policyVersion,
            observationSize: batch.observationDimension, actionSize: batch.actionDimension,
            episodeIDs: [UInt64](repeating: 0, count: batch.count),
            stepIndices: [UInt32](repeating: 0, count: batch.count),
            observations: batch.observations, nextObservations: batch.nextObservations,
            actions: batch.actions.map { min(max($0, -1), 1) }, rewards: batch.rewards,
            doneFlags: batch.terminations.map { $0 != 0 ? DoneFlags.terminated.rawValue : 0 },
            actingVersionOffsets: actingVersionOffsets)
    }
}
