import Transport
import Wire

/// Every setting of an actor process, with its default.
///
/// Settings left nil take the learner's suggestion from WELCOME (batch size,
/// upload interval, weight refresh period), so one learner flag tunes all actors.
public struct ActorConfiguration: Sendable {
    /// The learner's URL.
    public var connect = "tcp://127.0.0.1:7700"
    /// Built-in environment name.
    public var environment = "pendulum"
    /// A MuJoCo model file replacing the environment's built-in model; nil for the built-in one.
    public var modelPath: String?
    /// Environment copies stepped together (one batched inference per step).
    public var environments = 1
    /// This actor's index; seeds derive from the run seed plus this index.
    public var actorID: UInt32 = 0
    /// Run seed shared by every actor of a run.
    public var seed: UInt64 = 1
    /// Shared secret for HELLO.
    public var token: [UInt8]?
    /// CA and server name for `tls+tcp://`.
    public var tls: TLSConfiguration?
    /// Transitions per TRANSITIONS message; nil: the learner's batch hint.
    public var batchSize: Int?
    /// Longest a partial batch waits; nil: the learner's upload interval.
    public var batchIntervalMs: Int?
    /// Env steps between weight polls (a gateway counts its simulators' transitions); nil: the
    /// learner's refresh period.
    public var weightsEvery: Int?
    /// Stop after this many env steps (all copies together); nil: until told the run is over.
    public var maxSteps: Int?
    /// Time limit override for the built-in environment.
    public var maxEpisodeSteps: Int?
    /// Unacknowledged batches kept for resending; a full outbox pauses the environments.
    public var outboxCapacity = ActorConfiguration.defaultOutboxCapacity
    /// One batch in flight: an actor behind the rate limiter stops collecting at once, so data is
    /// fresh on arrival (docs/benchmarks.md, "Policy lag"). The config file's `actor` section
    /// (Learning's `ActorSettings`) has the same default; ActingTests checks that they agree.
    public static let defaultOutboxCapacity = 1
    /// How long one request may wait for its reply before it is resent.
    public var requestTimeoutMs = 2000
    /// First and largest wait between retries while the learner is unreachable.
    public var backoffMinimumMs = 100
    public var backoffMaximumMs = 5000
    /// On stop, how long to keep sending what the outbox holds.
    public var drainTimeoutMs = 5000
    /// JSON counters written every second and at exit (nil: none).
    public var statsFile: String?
    /// Debugging: a file that gets the rows of every acknowledged batch (`observation, action,
    /// reward, next observation` as float32), to compare with the learner's `--dump-replay`.
    public var ackedLog: String?
    /// Period of the progress line on stderr (0: none).
    public var progressIntervalMs = 2000
    public var limits = WireLimits()

    public init() {}

    /// Checks every setting; throws the first mistake in one sentence.
    public func validate() throws(ActorError) {
        func need(_ ok: Bool, _ field: String, _ expected: String) throws(ActorError) {
            if !ok { throw .invalidSetting(field: field, expected: expected) }
        }
        try need(environments >= 1, "envs", "at least 1, got \(environments)")
        if let batchSize {
            try need(batchSize >= 1 && batchSize <= limits.maxTransitionsPerBatch, "batch-size",
                     "between 1 and \(limits.maxTransitionsPerBatch), got \(batchSize)")
        }
        if let batchIntervalMs { try need(batchIntervalMs >= 1, "batch-interval-ms", "at least 1, got \(batchIntervalMs)") }
        if let weightsEvery { try need(weightsEvery >= 1, "weights-every", "at least 1, got \(weightsEvery)") }
        if let maxSteps { try need(maxSteps >= 1, "max-steps", "at least 1, got \(maxSteps)") }
        try need(outboxCapacity >= 1, "outbox-capacity", "at least 1, got \(outboxCapacity)")
        try need(requestTimeoutMs >= 10, "request-timeout-ms", "at least 10, got \(requestTimeoutMs)")
        try need(backoffMinimumMs >= 1 && backoffMaximumMs >= backoffMinimumMs, "backoff-max-ms",
                 "at least the minimum backoff (\(backoffMinimumMs) ms)")
        if let token { try need(!token.isEmpty, "token", "a non-empty token") }
        if connect.lowercased().hasPrefix("tls+") {
            try need(tls != nil, "tls-ca", "a CA file and server name for the tls+tcp:// learner")
        }
        if let reason = Self.uncheckedNameReason(url: connect, tls: tls) {
            throw .invalidSetting(field: "tls-server-name", expected: reason)
        }
    }

    /// Why dialling `url` with `tls` would leave the server's name unchecked; nil when it would not.
    ///
    /// nng 1.5.2 (mbedTLS 2.28) checks no name when the URL's host is an IP literal and no server
    /// name is set, and cannot match an IP address in a certificate: such a dial must name the server.
    static func uncheckedNameReason(url: String, tls: TLSConfiguration?) -> String? {
        guard EndpointURL.isTLSToIPLiteral(url), tls?.serverName == nil else { return nil }
        return "a DNS name the learner's certificate carries, because \(url) dials an IP address over TLS and nng "
            + "cannot check a certificate against an IP address (without a name it would go unchecked)"
    }
}

/// Why an actor could not start or had to stop.
public enum ActorError: Error, Equatable, CustomStringConvertible {
    case invalidSetting(field: String, expected: String)
    /// The learner refused this actor (wrong token, different spaces, ...).
    case refused(code: ErrorCode, text: String)
    /// The environment could not be built.
    case environment(String)
    /// The policy could not be built or could not take the learner's weights.
    case policy(String)
    /// The socket could not be opened or dialed.
    case connect(url: String, reason: String)

    public var description: String {
        switch self {
        case let .invalidSetting(field, expected): "invalid --\(field): expected \(expected)"
        case let .refused(code, text): "the learner refused this actor: \(code.name): \(text)"
        case let .environment(reason): "environment: \(reason)"
        case let .policy(reason): "policy: \(reason)"
        case let .connect(url, reason): "cannot dial \(url): \(reason)"
        }
    }
}
