/// The `actor` section of a config file: an actor process's settings, with their defaults.
///
/// meow-actor turns these (after its flags) into `Acting.ActorConfiguration`, which
/// validates them; they live here, beside the learner's section, so that one file
/// and one parser serve both processes of a run (docs/configuration.md). Settings
/// left nil take the learner's suggestion from WELCOME.
public struct ActorSettings: Sendable, Equatable {
    /// The learner's URL.
    public var connect = "tcp://127.0.0.1:7700"
    /// Environment copies stepped together in this process.
    public var envs = 1
    /// This actor's index; seeds are the run seed plus this index.
    public var actorID: UInt32 = 0
    /// Transitions per TRANSITIONS message; nil: the learner's hint.
    public var batchSize: Int?
    /// Longest a partial batch waits (ms); nil: the learner's upload interval.
    public var batchIntervalMs: Int?
    /// Env steps between weight polls; nil: the learner's refresh period.
    public var weightsEvery: Int?
    /// Stop after this many env steps; nil: until the learner ends the run.
    public var maxSteps: Int?
    /// Time limit of the environment; nil: its own.
    public var maxEpisodeSteps: Int?
    /// Unacknowledged batches kept for resending; a full outbox pauses the environments.
    public var outboxCapacity = ActorSettings.defaultOutboxCapacity
    /// One batch in flight: an actor behind the rate limiter stops collecting at once, so data is
    /// fresh on arrival (docs/benchmarks.md, "Policy lag").
    public static let defaultOutboxCapacity = 1
    /// Reply timeout of one request (ms).
    public var requestTimeoutMs = 2000
    /// Counters as JSON, rewritten every second; nil: none.
    public var statsFile: String?
    /// Period of the progress line on stderr (0: none).
    public var progressIntervalMs = 2000
    /// CA certificate (PEM) to check a tls+tcp:// learner.
    public var tlsCA: String?
    /// Name the learner's certificate must carry.
    public var tlsServerName: String?

    public init() {}
}
