import Environments
import MEow
import Replay
import Simulators
import Transport
import Wire

/// Every operational setting of the learner service, with its default.
///
/// Hyperparameters of the agent live in `agent` (a `MEowConfig`); this struct holds
/// what the distributed system adds: where to listen, how to limit the insert/sample
/// ratio, what to tell actors in WELCOME, and liveness. Settings left nil are derived
/// from the others by the `resolved...` accessors, so a config file only names what it
/// changes.
public struct LearnerConfiguration: Sendable {
    /// nng URL of the REP listener.
    public var listen = "tcp://127.0.0.1:7700"
    /// Built-in environment (pendulum, mountaincar, multigoal, the MuJoCo tasks) or a MuJoCo preset.
    public var environment = "pendulum"
    /// A MuJoCo model file replacing the task's built-in model (the learner evaluates in it); nil for the built-in.
    public var modelPath: String?
    /// The spaces the run trains on, once known: a built-in environment's, or those the first peer
    /// brought (`external`, a preset), recorded in config.json so that a resumed run knows them.
    public var spaces: AgreedSpaces?
    /// Run directory: policy.safetensors, learner-stats.json, wal/ (the write-ahead log), checkpoints/.
    public var runDirectory = "runs/learner"
    /// MEow hyperparameters, seed, batch size, replay capacity, warm-up and run length.
    public var agent = MEowConfig()
    /// Shared secret actors must present in HELLO; required when `listen` is not loopback.
    public var token: [UInt8]?
    /// Certificate and key for `tls+tcp://` listeners.
    public var tls: TLSConfiguration?

    // MARK: Rate limiter (Reverb's SampleToInsertRatio)

    /// Sampled transitions per inserted transition; nil: batch size × updates per step,
    /// i.e. one update per environment step as in the single-process loop.
    public var samplesPerInsert: Double?
    /// Transitions in replay before the first update; nil: max(learning starts, batch size).
    public var minReplay: Int?
    /// How far actors may run ahead of the learner, in sampled items; nil: room for one
    /// maximal actor batch plus one update batch.
    public var errorBuffer: Double?

    // MARK: Ingest

    /// Most live actors; further HELLOs are refused with FULL.
    public var maxActors = 64
    /// Drop batches whose policy version lags the learner's by more than this (nil: keep all).
    public var maxStaleness: Int?
    /// Transitions waiting between the network handlers and the training thread; nil: 8 × max batch.
    public var ingestQueueCapacity: Int?
    /// Largest |x| taken in an observation (TRANSITIONS and ACTION_REQUEST); nil: any finite value.
    public var maxAbsObservation: Double?
    /// Largest |r| taken in a reward (TRANSITIONS and ACTION_REQUEST); nil: any finite value.
    public var maxAbsReward: Double?

    // MARK: What WELCOME tells actors

    /// Transitions per TRANSITIONS message the learner prefers.
    public var batchHint = 16
    /// Most transitions per TRANSITIONS message it accepts.
    public var maxBatch = 512
    /// Longest an actor should hold a partial batch.
    public var uploadIntervalMs = 100
    /// WEIGHTS chunk size.
    public var weightsChunkBytes = 1 << 20
    /// Environment steps between an actor's weight polls.
    public var weightsRefreshSteps = 20
    /// Actors pull as soon as the learner is this many versions ahead of their weights (0: off).
    public var weightsMaxLag = 20
    /// Actors pull once their weights are this old and newer ones exist (ms; 0: off).
    public var weightsMaxAgeMs = 500
    /// Heartbeat period; a peer silent for `peerTimeoutMs` is forgotten.
    public var heartbeatIntervalMs = 1000
    /// nil: three heartbeat intervals (PROTOCOL.md 5.7).
    public var peerTimeoutMs: Int?

    // MARK: Service

    /// Concurrent REP contexts serving requests.
    public var serverContexts = 8
    /// Shortest time between two WEIGHTS snapshots taken by the training thread.
    public var weightsPublishIntervalMs = 20
    /// Where the JSON counters go; nil: learner-stats.json in the run directory.
    public var statsFile: String?
    /// Period of the stats file and the metrics rows.
    public var statsIntervalMs = 1000
    /// Period of the progress line on stderr (0: none).
    public var progressIntervalMs = 2000
    /// Prometheus /metrics, /healthz, /readyz on this host:port (nil: off).
    public var metricsListen: String?
    /// Receiver limits for decoding requests.
    public var limits = WireLimits()

    // MARK: Checkpoints

    /// Checkpoint period, retention and replay snapshots (the config file's `run` section;
    /// `runDirectory` and `metricsListen` above are resolved from its `run-dir` and `metrics-listen`).
    public var run = RunSettings()

    public init() {}

    /// The certificate of `tls`, as the config file's `tls-cert` key reads and writes it.
    public var tlsCertificateFile: String? {
        get { tls?.certificateFile }
        set { setTLS(certificate: newValue, key: tlsKeyFile) }
    }

    /// The private key of `tls` (`tls-key`).
    public var tlsKeyFile: String? {
        get { tls?.keyFile }
        set { setTLS(certificate: tlsCertificateFile, key: newValue) }
    }

    private mutating func setTLS(certificate: String?, key: String?) {
        if certificate == nil && key == nil {
            tls = nil
        } else {
            var server = tls ?? .server(certificateFile: "", keyFile: "")
            (server.certificateFile, server.keyFile) = (certificate, key)
            tls = server
        }
    }

    // MARK: - Derived settings

    /// `run` with the run directory and metrics address this learner really uses.
    public var effectiveRun: RunSettings {
        var settings = run
        settings.runDir = runDirectory
        settings.metricsListen = metricsListen
        return settings
    }

    /// The effective configuration as a config file: printed at start, stored as config.json
    /// and in every checkpoint (docs/configuration.md).
    public var rendered: String {
        ConfigFile.render(environment: environment, model: modelPath, config: agent, settings: effectiveRun, learner: self,
                          spaces: spaces?.record)
    }

    /// The effective configuration as CleanRL's hyperparameter table (TensorBoard's Text tab).
    var hyperparameterPairs: [(name: String, value: String)] {
        [("env", environment)] + ConfigKeys.meow.map { ("meow.\($0.name)", $0.render(agent)) }
            + ConfigKeys.run.map { ("run.\($0.name)", $0.render(effectiveRun)) }
            + ConfigKeys.learner.map { ("learner.\($0.name)", $0.render(self)) }
    }

    public var resolvedSamplesPerInsert: Double {
        samplesPerInsert ?? Double(agent.batchSize * agent.updatesPerStep)
    }

    public var resolvedMinReplay: Int { minReplay ?? max(agent.learningStarts, agent.batchSize) }

    public var resolvedErrorBuffer: Double {
        errorBuffer ?? resolvedSamplesPerInsert * Double(maxBatch) + Double(agent.batchSize)
    }

    public var resolvedIngestQueueCapacity: Int { ingestQueueCapacity ?? 8 * maxBatch }

    public var resolvedPeerTimeoutMs: Int { peerTimeoutMs ?? 3 * heartbeatIntervalMs }

    public var resolvedStatsFile: String { statsFile ?? runDirectory + "/learner-stats.json" }

    /// The rate limiter these settings describe.
    ///
    /// Reverb's SampleToInsertRatio with a one-sided error range [offset, offset + buffer]:
    /// the learner never samples ahead of the ratio (with samples per insert = batch size it
    /// does exactly one update per environment step past warm-up, as the single-process loop
    /// does), while actors may run ahead by the buffer before they are told TRY_LATER. A
    /// symmetric range would let the learner do buffer / batch updates on the warm-up data
    /// alone.
    public func makeRateLimiter() -> RateLimiter {
        let offset = resolvedSamplesPerInsert * Double(resolvedMinReplay)
        return RateLimiter(samplesPerInsert: resolvedSamplesPerInsert, minSizeToSample: resolvedMinReplay,
                           minDiff: offset, maxDiff: offset + resolvedErrorBuffer)
    }

    // MARK: - Validation

    /// Checks every setting; throws the first mistake in one sentence that says what to change.
    public func validate() throws(LearnerError) {
        do { try agent.validate() } catch { throw .invalidSetting(field: error.field, expected: error.expected) }
        func need(_ ok: Bool, _ field: String, _ expected: String) throws(LearnerError) {
            if !ok { throw .invalidSetting(field: field, expected: expected) }
        }
        try need(maxActors >= 1, "max-actors", "at least 1, got \(maxActors)")
        if let maxStaleness { try need(maxStaleness >= 0, "max-staleness", "0 or more, got \(maxStaleness)") }
        if let maxAbsObservation {
            try need(maxAbsObservation > 0 && maxAbsObservation.isFinite, "max-abs-observation",
                     "a positive number, got \(maxAbsObservation)")
        }
        if let maxAbsReward {
            try need(maxAbsReward > 0 && maxAbsReward.isFinite, "max-abs-reward", "a positive number, got \(maxAbsReward)")
        }
        try need(batchHint >= 1 && batchHint <= maxBatch, "batch-hint", "between 1 and max-batch (\(maxBatch))")
        try need(maxBatch >= 1 && maxBatch <= limits.maxTransitionsPerBatch, "max-batch",
                 "between 1 and \(limits.maxTransitionsPerBatch), got \(maxBatch)")
        try need(uploadIntervalMs >= 1, "upload-interval-ms", "at least 1, got \(uploadIntervalMs)")
        try need(weightsChunkBytes >= 1024 && weightsChunkBytes <= limits.maxChunkBytes, "weights-chunk-bytes",
                 "between 1024 and \(limits.maxChunkBytes), got \(weightsChunkBytes)")
        try need(weightsRefreshSteps >= 1, "weights-refresh-steps", "at least 1, got \(weightsRefreshSteps)")
        try need((0 ... Int(UInt32.max)).contains(weightsMaxLag), "weights-max-lag", "0 or more, got \(weightsMaxLag)")
        try need((0 ... Int(UInt32.max)).contains(weightsMaxAgeMs), "weights-max-age-ms",
                 "0 or more, got \(weightsMaxAgeMs)")
        try need(heartbeatIntervalMs >= 10, "heartbeat-interval-ms", "at least 10, got \(heartbeatIntervalMs)")
        try need(resolvedPeerTimeoutMs > heartbeatIntervalMs, "peer-timeout-ms",
                 "longer than the heartbeat interval (\(heartbeatIntervalMs) ms)")
        try need(serverContexts >= 1, "server-contexts", "at least 1, got \(serverContexts)")
        try need(resolvedIngestQueueCapacity >= maxBatch, "ingest-queue-capacity",
                 "at least max-batch (\(maxBatch)) so one full batch fits")
        try need(statsIntervalMs >= 10, "stats-interval-ms", "at least 10, got \(statsIntervalMs)")
        try need(progressIntervalMs >= 0, "progress-interval-ms", "0 (off) or more, got \(progressIntervalMs)")

        if let token, token.isEmpty { throw .emptyToken }
        if token == nil && !EndpointURL.isLoopback(listen) { throw .tokenRequired(url: listen) }
        if listen.lowercased().hasPrefix("tls+") && tls == nil {
            throw .invalidSetting(field: "tls-cert", expected: "a certificate and key for the tls+tcp:// listener")
        }
        if let tls {
            try need(!(tls.certificateFile ?? "").isEmpty, "tls-cert", "a certificate file to go with tls-key")
            try need(!(tls.keyFile ?? "").isEmpty, "tls-key", "a private key file to go with tls-cert")
        }
        do { try run.validate() } catch { throw .invalidSetting(field: error.field, expected: error.expected) }

        let limiter = makeRateLimiter()
        do {
            try limiter.validate(sampleBatchSize: agent.batchSize, capacity: agent.bufferSize)
        } catch {
            throw .rateLimiter(error)
        }
        // An actor's largest batch must be admissible once the learner has caught up, or that
        // actor would be told TRY_LATER forever: D can sit as high as minDiff + batch size.
        let needed = resolvedSamplesPerInsert * Double(maxBatch) + Double(agent.batchSize)
        let width = limiter.maxDiff - limiter.minDiff
        try need(width >= needed, "error-buffer",
                 "at least \(Int(needed.rounded(.up))) so that a batch of max-batch (\(maxBatch)) "
                    + "transitions can ever be inserted; raise it or lower max-batch")
        _ = try EnvironmentSpec.resolve(environment, modelPath: modelPath)
    }
}

/// A learner setting that cannot work, or a start-up step that failed.
public enum LearnerError: Error, Equatable, CustomStringConvertible {
    /// A setting is outside what works; `expected` says what to change.
    case invalidSetting(field: String, expected: String)
    /// Binding a non-loopback address needs a token.
    case tokenRequired(url: String)
    /// A token was given but it is empty.
    case emptyToken
    /// The rate limiter could deadlock with these settings.
    case rateLimiter(RateLimiterError)
    /// Replay could not be allocated (e.g. it does not fit in memory).
    case replay(ReplayError)
    /// No built-in environment or preset has this name.
    case unknownEnvironment(name: String, known: [String])
    /// The environment could not be built (a model file that does not load or fit); `reason` says why.
    case environment(String)
    /// The agent could not be built.
    case agent(String)
    /// A file in the run directory could not be read or written.
    case io(path: String, reason: String)
    /// The listener could not be opened.
    case listen(url: String, reason: String)
    /// A checkpoint could not be written, or the one to resume from cannot be used.
    case checkpoint(CheckpointError)
    /// Another learner holds the run directory's lock.
    case runDirectoryLocked(path: String, holderPID: Int32?)
    /// A fresh learner was pointed at a directory that holds a run; `found` describes it.
    case runDirectoryHoldsRun(path: String, found: String)
    /// The write-ahead log could not be opened or read back.
    case writeAheadLog(WriteAheadLogError)

    public var description: String {
        switch self {
        case let .invalidSetting(field, expected): "invalid --\(field): expected \(expected)"
        case let .tokenRequired(url):
            "listening on \(url) reaches other machines: give --token, --token-file or MEOW_TOKEN, "
                + "or listen on a loopback address"
        case .emptyToken: "the auth token is empty; give a non-empty --token, --token-file or MEOW_TOKEN"
        case let .rateLimiter(error): "rate limiter settings could stall training: \(error)"
        case let .replay(error): "\(error)"
        case let .unknownEnvironment(name, known):
            "unknown environment '\(name)'; choose one of: \(known.joined(separator: ", "))"
        case let .environment(reason): reason
        case let .agent(reason): "could not build the agent: \(reason)"
        case let .io(path, reason): "\(path): \(reason)"
        case let .listen(url, reason): "cannot listen on \(url): \(reason)"
        case let .checkpoint(error): "\(error)"
        case let .runDirectoryLocked(path, pid):
            "run directory \(path) is in use by another meow-learner"
                + (pid.map { " (pid \($0))" } ?? "") + "; stop it, or choose another --run-dir"
        case let .runDirectoryHoldsRun(path, found):
            "run directory \(path) already holds a run (\(found)); pass --resume \(path) to continue it, "
                + "--overwrite to delete it and start afresh, or choose another --run-dir"
        case let .writeAheadLog(error): "\(error)"
        }
    }
}
