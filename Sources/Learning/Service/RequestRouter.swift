import Simulators
import Telemetry
import Wire

/// Turns one request frame into one reply frame: the REP handler's whole job.
///
/// Synchronous and short: it decodes, applies the request to the ledger under its
/// lock (or asks the weights publisher), and encodes the answer. Bytes from the network
/// never trap here: a frame that does not decode is answered with ERROR and the
/// decoder's code and field.
///
/// TRANSITIONS and ACTION_REQUEST wait. A batch is acknowledged only once the write-ahead log
/// has it on disk (the log's group commit resumes the handler); the simulator server answers
/// ACTION_REQUEST from its own thread, after one batched inference call and the log.
///
/// A session is the nng pipe a HELLO was welcomed on (PeerSessions): every other request is
/// checked against its pipe's session before anything else looks at it, so the auth token
/// HELLO checked protects the whole connection.
struct RequestRouter: Sendable {
    let core: LearnerCore
    let publisher: WeightsPublisher
    let writeAheadLog: WriteAheadLog
    /// Reports batches dropped as too stale (counted in the ledger and /metrics).
    let staleDrops: RateLimitedLogger
    let limits: WireLimits
    let simulators: SimulatorServer

    func handle(_ bytes: [UInt8], pipe: UInt32) async -> [UInt8] {
        let frame: Frame
        do {
            frame = try Frame.decode(bytes, limits: limits)
        } catch {
            return Frame.replyBytes(undecodable: bytes, error: error, limits: limits, server: "learner")
        }
        let refusal = core.withLedger { ledger -> ErrorReply? in
            if let refusal = ledger.sessions.check(frame.message, onPipe: pipe) { return refusal }
            // Any request on a session is hearing from its peer (PROTOCOL.md 3.1), WEIGHTS_REQUEST included.
            if let key = ledger.sessions.session(onPipe: pipe)?.key { ledger.touch(key, now: .now) }
            return nil
        }
        if let refusal {
            return encode(.error(refusal), requestID: frame.requestID)
        }
        if case .transitions(let batch) = frame.message {
            return encode(await ingest(batch), requestID: frame.requestID)
        }
        if case .actionRequest(let request) = frame.message {
            if let violation = core.withLedger({ $0.settings.magnitudes.violation(in: request) }) {
                return encode(.error(violation), requestID: frame.requestID)
            }
            let served = await simulators.serve(request, requestID: frame.requestID, pipe: pipe,
                                                extensions: frame.extensions)
            return encode(served.message, requestID: frame.requestID, extensions: served.extensions)
        }
        return encode(reply(to: frame.message, pipe: pipe), requestID: frame.requestID)
    }

    /// The reply to a request whose session `handle` has checked already.
    func reply(to message: Message, pipe: UInt32) -> Message {
        let now = ContinuousClock.now
        switch message {
        case .hello(let hello):
            let reply = welcome(hello, pipe: pipe, now: now)
            core.withLedger { ledger in
                // A refused HELLO leaves the connection without a session (PROTOCOL.md 5.3).
                if case .welcome = reply { ledger.openSession(hello, pipe: pipe, now: now) }
                else { ledger.endSession(pipe: pipe, goodbye: false, now: now) }
            }
            return reply
        case .transitions:
            return .error(ErrorReply(code: .internal, failedType: message.type.rawValue,
                                     text: "TRANSITIONS is acknowledged after the write-ahead log"))
        case .heartbeat(let beat):
            return core.withLedger { $0.heartbeat(beat, now: now) }
        case .episodeStats(let stats):
            if let entry = simulators.entry(onPipe: pipe), entry.evaluationOnly {
                // Deterministic (evaluation) episodes stay out of charts/episodic_return.
                simulators.recordEvaluation(stats.episodes)
                core.withLedger { $0.touch(entry.peer, now: now) }
                return .ack(Ack(ackedType: .episodeStats))
            }
            return core.withLedger { $0.episodeStats(stats, now: now) }
        case .weightsRequest(let request):
            return publisher.reply(to: request)
        case .goodbye:
            // The session ends now: its slot is free, a simulator's episodes go, and the run's
            // dedupe marks go with it.
            core.withLedger { _ = $0.endSession(pipe: pipe, goodbye: true, now: now) }
            simulators.goodbye(pipe: pipe)
            return .ack(Ack(ackedType: .goodbye))
        case .actionRequest:
            return .error(ErrorReply(code: .internal, failedType: message.type.rawValue,
                                     text: "ACTION_REQUEST is served by the simulator server"))
        case .welcome, .refused, .ack, .error, .heartbeatReply, .transitionsAck, .weights, .actionReply:
            return .error(ErrorReply(code: .unexpectedMessage, failedType: message.type.rawValue,
                                     text: "\(message.type.fieldPrefix) is a reply, not a request"))
        }
    }

    private func welcome(_ hello: Hello, pipe: UInt32, now: ContinuousClock.Instant) -> Message {
        let reply = core.withLedgerAndSignal { $0.hello(hello, now: now) }
        guard hello.role == .simulator, case .welcome(var welcome) = reply else { return reply }
        guard let entry = simulators.welcome(hello, pipe: pipe, now: now) else {
            return .refused(core.withLedger { $0.admission }.full(maxSessions: simulators.settings.limits.maxSessions))
        }
        welcome.capabilities.formUnion(HelloAdmission.capabilities(of: entry))
        return .welcome(welcome)
    }

    /// Ends the session of a connection that closed; the run's dedupe marks stay for its resends.
    func pipeClosed(_ pipe: UInt32) {
        core.withLedger { _ = $0.endSession(pipe: pipe, goodbye: false, now: .now) }
        simulators.detach(pipe: pipe)
    }

    /// Admits a batch, waits for the log to hold it, then commits it and answers.
    ///
    /// The commit runs in the log's completion, on its writer thread and in log order, so
    /// batches reach the training thread in the order the log keeps them.
    func ingest(_ batch: TransitionBatch) async -> Message {
        let pending: PendingIngest
        switch core.withLedgerAndSignal({ $0.admit(batch, now: .now) }) {
        case .reply(let reply): return reply
        case .log(let admitted): pending = admitted
        }
        let core = self.core
        return await withCheckedContinuation { continuation in
            writeAheadLog.append(pending.record) { [staleDrops] durable in
                let reply = core.withLedgerAndSignal { $0.commit(pending, durable, now: .now) }
                if pending.outcome == .droppedStale, case .success = durable {
                    staleDrops.warning("stale drop",
                        "learner: dropped a batch of \(batch.count) transitions from actor \(batch.actorID) "
                            + "(seq \(batch.seq)): its policy lags by more than --max-staleness")
                }
                continuation.resume(returning: reply)
            }
        }
    }

    private func encode(_ message: Message, requestID: UInt32, extensions: [WireExtension] = []) -> [UInt8] {
        Frame.replyBytes(message, requestID: requestID, extensions: extensions, limits: limits, server: "learner")
    }
}
