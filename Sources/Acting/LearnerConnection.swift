import Logging
import MEow
import Synchronization
import Telemetry
import Transport
import Wire

/// An actor's link to the learner: one REQ socket, a context per concern, and the session.
///
/// Uploads, heartbeats and weight pulls each get their own REQ context so a slow weight
/// pull never delays a TRANSITIONS acknowledgement (a context has one request in flight).
/// The session is the learner's WELCOME; when any request learns it is gone (NOT_WELCOME,
/// or a new learner run id in a heartbeat), the next caller says HELLO again, once for all
/// of them, with exponential backoff while the learner is unreachable.
public final class LearnerConnection: Sendable {
    /// The outcome of saying HELLO.
    public enum SessionError: Error, Equatable {
        /// The learner will not take this actor; do not retry.
        case refused(code: ErrorCode, text: String)
        /// The learner finished its run.
        case runOver
    }

    private struct Session {
        var welcome: Welcome?
        /// Bumped on every successful HELLO; a failure names the epoch it saw.
        var epoch = 0
        var pending: Task<(Welcome, Int), any Error>?
        var hellos = 0
        var learnerRunIDs: [UInt64] = []
        /// Requests that found no learner: the first is logged, later ones counted and summarised.
        var failures = RepeatLimiter(every: .max, interval: .seconds(10))
        /// The dialer's failure counters at the last report, so a report names what failed since.
        var dialFailures = ConnectionFailures()
    }

    public let url: String
    private let tls: TLSConfiguration?
    private let socket: RequestSocket
    private let dialer: Dialer
    let uploads: RequestContext
    let control: RequestContext
    let weights: RequestContext
    private let hello: Hello
    private let limits: WireLimits
    private let backoff: (minimum: Duration, maximum: Duration)
    private let session = Mutex(Session())
    private let requestIDs = Atomic<UInt32>(1)
    private let logger: Logger
    private let onNewLearner: @Sendable (Welcome) -> Void

    /// - Parameter onNewLearner: called when a learner run other than the last one welcomes this
    ///   peer (a restarted or resumed learner): weights held from the earlier run must go.
    /// - Throws: `.invalidSetting` for a TLS dial to an IP literal without a server name, whose
    ///   certificate name nng would leave unchecked.
    public init(url: String, tls: TLSConfiguration?, hello: Hello, limits: WireLimits, requestTimeout: Duration,
                backoffMinimum: Duration, backoffMaximum: Duration,
                onNewLearner: @escaping @Sendable (Welcome) -> Void = { _ in }) throws(ActorError) {
        if let reason = ActorConfiguration.uncheckedNameReason(url: url, tls: tls) {
            throw .invalidSetting(field: "tls-server-name", expected: reason)
        }
        let options = SocketOptions(
            maxMessageSize: limits.maxFrameBytes + 4, receiveTimeout: requestTimeout, sendTimeout: requestTimeout,
            reconnectMinimum: backoffMinimum, reconnectMaximum: backoffMaximum, resendInterval: nil)
        do {
            socket = try RequestSocket(options: options)
            uploads = try socket.makeContext()
            control = try socket.makeContext()
            weights = try socket.makeContext()
            dialer = try socket.dial(url, tls: tls)
        } catch {
            throw .connect(url: url, reason: "\(error)")
        }
        self.url = url
        self.tls = tls
        self.hello = hello
        self.limits = limits
        self.backoff = (backoffMinimum, backoffMaximum)
        logger = Logger(label: hello.role == .actor ? "meow.actor" : "meow.gateway")
        self.onNewLearner = onNewLearner
    }

    /// Closes the socket; pending requests fail.
    public func close() {
        uploads.close()
        control.close()
        weights.close()
        socket.close()
    }

    /// Sends one request on `context` and returns the learner's reply.
    ///
    /// Throws the transport's error (timeout, closed) or a `WireError` for a reply that
    /// does not decode; the caller backs off and resends, which is safe because every
    /// request is idempotent.
    func exchange(_ message: Message, on context: RequestContext) async throws -> Message {
        let id = requestIDs.add(1, ordering: .relaxed).newValue
        let request = try Frame(message, requestID: id).encode(limits: limits)
        let reply = try Frame.decode(try await context.request(request), limits: limits)
        return reply.message
    }

    // MARK: - Session

    /// The current WELCOME and its epoch, saying HELLO first if there is none.
    public func welcome() async throws -> (Welcome, Int) {
        let task = session.withLock { state -> Task<(Welcome, Int), any Error>? in
            if state.welcome != nil { return nil }
            if let pending = state.pending { return pending }
            let task = Task { try await self.sayHello() }
            state.pending = task
            return task
        }
        if let task {
            // Waiting is cancellable: a stopping actor must not hang in the HELLO backoff.
            return try await withTaskCancellationHandler { try await task.value } onCancel: { task.cancel() }
        }
        return session.withLock { ($0.welcome!, $0.epoch) }
    }

    /// Forgets the session seen at `epoch`, so the next `welcome()` says HELLO again.
    public func invalidate(epoch: Int, reason: String = "the learner no longer knows this peer") {
        let lost = session.withLock { state -> UInt64? in
            guard state.epoch == epoch, let welcome = state.welcome else { return nil }
            state.welcome = nil
            return welcome.learnerRunID
        }
        if let lost { logger.notice("\(name): lost learner run \(lost): \(reason); saying HELLO again") }
    }

    /// Forgets the session if `learnerRunID` shows that the learner restarted.
    public func observe(learnerRunID: UInt64) {
        let lost = session.withLock { state -> UInt64? in
            guard let welcome = state.welcome, welcome.learnerRunID != learnerRunID else { return nil }
            state.welcome = nil
            return welcome.learnerRunID
        }
        if let lost {
            logger.notice("\(name): lost learner run \(lost): learner run \(learnerRunID) answers now; saying HELLO")
        }
    }

    /// Logs a request that found no learner: the first at once, then one line per 10 s with a count.
    ///
    /// The line says why when nng counted failed connection attempts since the last report (a
    /// certificate rejected in the TLS handshake, a plain dial to a TLS port, a refused
    /// connection): nng itself reports them to nobody.
    public func noteFailure(_ error: any Error) {
        guard let count = session.withLock({ $0.failures.record("connect", now: .now) }) else { return }
        var because = ""
        if let now = dialer.failures {
            let recent = session.withLock { state in
                defer { state.dialFailures = now }
                return now.since(state.dialFailures)
            }
            if let reason = recent.reason {
                because = "; \(reason)" + (tls == nil ? "" : hint)
            }
        }
        let since = count > 1 ? " (\(count) failed requests since the last report)" : ""
        logger.warning("\(name): cannot reach the learner at \(url): \(error)\(because)\(since)")
    }

    /// What to check when a TLS dial fails.
    private var hint: String {
        "; check --tls-ca (\(tls?.caFile ?? "none given")) and --tls-server-name (\(tls?.serverName ?? "none given"))"
    }

    /// How this peer names itself in log lines.
    private var name: String { "\(hello.role == .actor ? "actor" : "gateway") \(hello.actorID)" }

    /// HELLOs said and learner run ids met, for the stats file.
    public var sessionHistory: (hellos: Int, learnerRunIDs: [UInt64]) {
        session.withLock { ($0.hellos, $0.learnerRunIDs) }
    }

    private func sayHello() async throws -> (Welcome, Int) {
        defer { session.withLock { $0.pending = nil } }
        var delay = backoff.minimum
        while true {
            try Task.checkCancellation()
            let reply: Message
            do {
                reply = try await exchange(.hello(hello), on: control)
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                noteFailure(error)
                // Timed wait: exponential backoff while the learner is unreachable.
                try await Task.sleep(for: delay)
                delay = min(delay * 2, backoff.maximum)
                continue
            }
            switch reply {
            case .welcome(let welcome):
                let (result, previous) = session.withLock { state in
                    let previous = state.learnerRunIDs.last
                    state.welcome = welcome
                    state.epoch += 1
                    state.hellos += 1
                    if previous != welcome.learnerRunID { state.learnerRunIDs.append(welcome.learnerRunID) }
                    return ((welcome, state.epoch), previous)
                }
                if let previous, previous != welcome.learnerRunID {
                    logger.notice("""
                        \(name): welcomed by a new learner run \(welcome.learnerRunID) (was \(previous)), policy \
                        version \(welcome.policyVersion); dropping the weights held and pulling at once
                        """)
                    // Before anyone acts on the new session, so no weights of the old run are used with it.
                    onNewLearner(welcome)
                }
                return result
            case .refused(let refused) where refused.code == .shuttingDown && refused.retryAfterMs == 0:
                throw SessionError.runOver
            case .refused(let refused) where refused.retryAfterMs > 0:
                logger.notice(
                    "\(name): learner says \(refused.code.name) (\(refused.text)); retrying in \(refused.retryAfterMs) ms")
                // Timed wait: the retry-after of the learner's REFUSED.
                try await Task.sleep(for: .milliseconds(Int(refused.retryAfterMs)))
            case .refused(let refused):
                throw SessionError.refused(code: refused.code, text: refused.text)
            case .error(let error) where error.code == .tryLater || error.code == .shuttingDown:
                // Timed wait: the learner's retry-after (at least 100 ms) while it is busy or restarting.
                try await Task.sleep(for: .milliseconds(Int(max(100, error.retryAfterMs))))
            case .error(let error):
                throw SessionError.refused(code: error.code, text: error.text)
            default:
                // Timed wait: exponential backoff after a reply that makes no sense for HELLO.
                try await Task.sleep(for: delay)
                delay = min(delay * 2, backoff.maximum)
            }
        }
    }

    // MARK: - Weights

    /// Pulls the learner's newest policy if it is newer than `held`; nil when unchanged.
    ///
    /// Chunk 0 names the version; later chunks ask for that version, and a STALE_VERSION
    /// (the learner moved on mid-fetch) starts over at chunk 0.
    public func pullWeights(held: UInt64) async throws -> (version: UInt64, tensors: [NamedTensor])? {
        for _ in 0 ..< 3 {
            let (_, epoch) = try await welcome()
            let first = try await exchange(.weightsRequest(WeightsRequest(heldVersion: held, onlyIfNewer: true)),
                                           on: weights)
            guard case .weights(let chunk) = first else {
                if case .error(let error) = first, error.code == .notWelcome {
                    invalidate(epoch: epoch, reason: "a weights request was answered NOT_WELCOME")
                }
                return nil
            }
            if chunk.chunkCount == 0 { return nil }
            var assembler = try WeightsAssembler(first: chunk)
            var stale = false
            while let index = assembler.nextChunkIndex {
                let request = WeightsRequest(heldVersion: held, fetchVersion: chunk.version, chunkIndex: index,
                                             onlyIfNewer: false)
                let reply = try await exchange(.weightsRequest(request), on: weights)
                guard case .weights(let next) = reply else {
                    stale = true
                    break
                }
                try assembler.add(next)
            }
            if !stale { return (assembler.version, try assembler.tensors()) }
        }
        return nil
    }
}
