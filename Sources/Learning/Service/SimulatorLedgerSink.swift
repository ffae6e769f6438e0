import Simulators
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
    let writeAheadLog: WriteAheadLog

    var agreedSpaces: AgreedSpaces? { core.withLedger { $0.spaces } }

    func admit(upTo count: Int, store: Bool, evaluating: Bool, peer: PeerKey, actingVersion: UInt64,
               prepare: () throws(SimulatorError) -> PreparedRequest) throws(SimulatorError) -> SimulatorAdmission {
        let now = ContinuousClock.now
        let (core, writeAheadLog) = (self.core, self.writeAheadLog)
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
            let batch = Wire.TransitionBatch(simulator: prepared, actorID: peer.actorID, runID: peer.runID, seq: 0,
                                             policyVersion: actingVersion)
            ledger.reserveSimulatorTransitions(batch.count, peer: peer, now: now)
            let receipt = StoreReceipt()
            writeAheadLog.append(.batch(batch, marked: false)) { durable in
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

extension WeightsPublisher: SimulatorWeightsSource {}

extension SimulatorServerSettings {
    /// A learner's settings: its peer timeout, and a seed derived from the run's.
    public init(learner configuration: LearnerConfiguration) {
        self.init()
        peerTimeout = .milliseconds(configuration.resolvedPeerTimeoutMs)
        seed = configuration.agent.seed ^ 0x51A7_0A11
    }
}
