import Acting
import ArgumentParser
import CommandLineOptions
import Foundation
import Learning
import Logging
import MEow
import Transport

/// The flags that shape the policy network; an actor must match its learner's.
///
/// The rest of the MEow hyperparameters only matter to the learner. The defaults come
/// from the preset the learner names in WELCOME.
struct PolicyShapeOptions: ParsableArguments {
    @Option(help: "Lower bound of log σ(s).") var logSigmaMin: Float?
    @Option(help: "Upper bound of log σ(s).") var logSigmaMax: Float?
    @Option(help: "Hidden width of h_σ and the coupling networks.") var flowHidden: Int?
    @Option(help: "Hidden width of the reward-shift heads.") var shiftHidden: Int?
    @Option(help: "Number of additive coupling layers (even).") var couplingLayers: Int?
    @Flag(inversion: .prefixedNo, help: "Learnable reward shifting.") var rewardShift: Bool?
    @Flag(inversion: .prefixedNo, help: "Shifting-based clipped double Q.") var clippedDoubleQ: Bool?

    func applied(to preset: MEowConfig) -> MEowConfig {
        var o = ConfigOverrides()
        (o.logSigmaMin, o.logSigmaMax, o.flowHidden, o.shiftHidden) = (logSigmaMin, logSigmaMax, flowHidden, shiftHidden)
        (o.couplingLayers, o.rewardShift, o.clippedDoubleQ) = (couplingLayers, rewardShift, clippedDoubleQ)
        return o.applied(to: preset)
    }
}

/// `meow-actor`: runs environments with the learner's latest policy and uploads transitions.
struct ActorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meow-actor",
        abstract: "Act in built-in environments with the learner's policy and send it the transitions.",
        discussion: """
            Settings come from the defaults, then --config FILE (its env, meow.seed, the meow policy-shape \
            keys and the actor section: the learner's file serves), then the flags (docs/configuration.md).
            """,
        version: MEowVersion.current)

    @Option(help: "Learner URL (default tcp://127.0.0.1:7700).") var connect: String?
    @Option(help: ArgumentHelp("Gateway mode: serve ACTION_REQUEST for simulators on this URL (e.g. tcp://127.0.0.1:7701) "
        + "with a local policy, and upload their transitions to the learner; --token guards both sides."))
    var gatewayListen: String?
    @Option(help: "Built-in environment (default: the config file's env, else pendulum).") var env: String?
    @Option(help: "MuJoCo model file (MJCF) replacing the task's built-in model (default: the config file's model).")
    var model: String?
    @Option(help: "Environment copies in this process (default 1).") var envs: Int?
    @Option(help: "Actor index; seeds are the run seed plus this index (default 0).") var actorId: UInt32?
    @Option(help: "Run seed (default: the config file's meow.seed, else 1).") var seed: UInt64?
    @Option(help: "A JSON config file (docs/configuration.md).") var config: String?
    @OptionGroup(title: "Authentication") var auth: TokenOptions
    @Option(help: "CA certificate (PEM) to check a tls+tcp:// learner.") var tlsCa: String?
    @Option(help: "Name the learner's certificate must carry (a DNS name, not an IP literal).") var tlsServerName: String?
    @Option(help: "Transitions per TRANSITIONS message (default: the learner's hint).") var batchSize: Int?
    @Option(help: "Longest a partial batch waits (ms; default: the learner's).") var batchIntervalMs: Int?
    @Option(help: "Pull weights every N env steps (default: the learner's).") var weightsEvery: Int?
    @Option(help: "Stop after N env steps (default: until the learner ends the run).") var maxSteps: Int?
    @Option(help: "Time limit of the environment (default: its own).") var maxEpisodeSteps: Int?
    @Option(help: "Unacknowledged batches kept for resending; a full outbox pauses the environments (default 1).")
    var outboxCapacity: Int?
    @Option(help: "Reply timeout of one request (ms; default 2000).") var requestTimeoutMs: Int?
    @Option(help: "Counters as JSON, rewritten every second.") var statsFile: String?
    @Option(help: .hidden) var ackedLog: String?
    @Option(help: "Period of the progress line (ms; 0: none).") var progressIntervalMs: Int?
    @Flag(help: "No progress line.") var quiet = false
    @OptionGroup(title: "Policy shape (must match the learner's)") var shape: PolicyShapeOptions
    @OptionGroup(title: "BLAS") var blas: BLASOptions
    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        _ = try makeConfiguration()
    }

    /// The actor flags given, by config key.
    private var actorFlags: Set<String> {
        let given: [(String, Any?)] = [
            ("connect", connect), ("envs", envs), ("actor-id", actorId), ("batch-size", batchSize),
            ("batch-interval-ms", batchIntervalMs), ("weights-every", weightsEvery), ("max-steps", maxSteps),
            ("max-episode-steps", maxEpisodeSteps), ("outbox-capacity", outboxCapacity),
            ("request-timeout-ms", requestTimeoutMs), ("stats-file", statsFile),
            ("progress-interval-ms", quiet ? 0 : progressIntervalMs), ("tls-ca", tlsCa),
            ("tls-server-name", tlsServerName),
        ]
        return Set(given.compactMap { name, value in value.map { _ in name } })
    }

    private func applyFlags(_ s: inout ActorSettings) {
        if let connect { s.connect = connect }
        if let envs { s.envs = envs }
        if let actorId { s.actorID = actorId }
        if let batchSize { s.batchSize = batchSize }
        if let batchIntervalMs { s.batchIntervalMs = batchIntervalMs }
        if let weightsEvery { s.weightsEvery = weightsEvery }
        if let maxSteps { s.maxSteps = maxSteps }
        if let maxEpisodeSteps { s.maxEpisodeSteps = maxEpisodeSteps }
        if let outboxCapacity { s.outboxCapacity = outboxCapacity }
        if let requestTimeoutMs { s.requestTimeoutMs = requestTimeoutMs }
        if let statsFile { s.statsFile = statsFile }
        if let progressIntervalMs { s.progressIntervalMs = progressIntervalMs }
        if quiet { s.progressIntervalMs = 0 }
        if let tlsCa { s.tlsCA = tlsCa }
        if let tlsServerName { s.tlsServerName = tlsServerName }
    }

    func makeConfiguration() throws -> (ActorConfiguration, ConfigFileContents?) {
        let resolved = try configured { () throws(ConfigurationError) in
            try DistributedConfigResolver.actor(environment: env, configFile: config, seed: seed,
                                                applyActorFlags: applyFlags)
        }
        let s = resolved.settings
        var c = ActorConfiguration()
        c.connect = s.connect
        c.environment = resolved.environment
        c.modelPath = try configured { () throws(ConfigurationError) in
            try ConfigResolver.checkedModel(model ?? resolved.file?.model, environment: resolved.environment)
        }
        c.environments = s.envs
        c.actorID = s.actorID
        c.seed = resolved.seed
        c.token = try auth.resolved()
        if s.tlsCA != nil || s.tlsServerName != nil { c.tls = .client(caFile: s.tlsCA, serverName: s.tlsServerName) }
        c.batchSize = s.batchSize
        c.batchIntervalMs = s.batchIntervalMs
        c.weightsEvery = s.weightsEvery
        c.maxSteps = s.maxSteps
        c.maxEpisodeSteps = s.maxEpisodeSteps
        c.outboxCapacity = s.outboxCapacity
        c.requestTimeoutMs = s.requestTimeoutMs
        c.statsFile = s.statsFile
        c.ackedLog = ackedLog
        c.progressIntervalMs = s.progressIntervalMs
        do {
            try c.validate()
        } catch {
            guard case let .invalidSetting(field, expected) = error else { throw ValidationError("\(error)") }
            throw ValidationError(DistributedConfigResolver.blame(
                field: field, expected: expected, section: "actor", file: resolved.file, flags: actorFlags).description)
        }
        return (c, resolved.file)
    }

    func run() async throws {
        let logger = logging.bootstrap(label: "meow.actor")
        let (configuration, file) = try makeConfiguration()
        blas.loadAndLog()
        let shape = self.shape
        if let gatewayListen {
            try await runGateway(configuration: configuration, listen: gatewayListen, shape: shape, logger: logger)
            return
        }
        let process: ActorProcess
        do {
            process = try ActorProcess(configuration: configuration, makePolicy: { observationSize, actionSize, welcome in
                // The learner's preset, then the config file's meow keys, then the shape flags.
                let preset = MEowConfig.preset(welcome.preset) ?? MEowConfig()
                let config = shape.applied(to: try file?.meowConfig(over: preset) ?? preset)
                let agent = try DefaultAgent.make(config: config, observationDimension: observationSize,
                                                  actionDimension: actionSize)
                return ActingPolicy(
                    act: { observations, count, rng in
                        agent.act(observations: observations, count: count, deterministic: false, rng: &rng)
                    },
                    load: { try agent.loadPolicyTensors($0) })
            })
        } catch {
            logger.error("meow-actor: \(error)")
            throw ExitCode(2)
        }
        do {
            let stats = try await CommandRunner.withStopSignal({ process.requestStop() }) { try await process.run() }
            let counts = "\(stats.envSteps) env steps, \(stats.batchesAcked) batches acknowledged"
            logger.info("meow-actor \(configuration.actorID): \(stats.state): \(counts), policy version \(stats.heldVersion)")
        } catch {
            logger.error("meow-actor \(configuration.actorID): \(error)")
            throw ExitCode(1)
        }
    }
}

extension ActorCommand {
    /// `--gateway-listen`: serve simulators with a local copy of the learner's policy.
    func runGateway(configuration: ActorConfiguration, listen: String, shape: PolicyShapeOptions, logger: Logger)
        async throws {
        let gateway: SimulatorGateway
        do {
            gateway = try SimulatorGateway(configuration: configuration, listen: listen, makePolicy: { obs, act, welcome in
                let config = shape.applied(to: MEowConfig.preset(welcome.preset) ?? MEowConfig())
                return try DefaultAgent.make(config: config, observationDimension: obs, actionDimension: act)
            })
        } catch {
            logger.error("meow-actor: \(error)")
            throw ExitCode(2)
        }
        do {
            let stats = try await CommandRunner.withStopSignal({ gateway.requestStop() }) { try await gateway.run() }
            let counts = "\(stats.envSteps) transitions, \(stats.batchesAcked) batches acknowledged"
            logger.info("meow-actor gateway \(configuration.actorID): \(stats.state): \(counts), policy version \(stats.heldVersion)")
        } catch {
            logger.error("meow-actor gateway \(configuration.actorID): \(error)")
            throw ExitCode(1)
        }
    }
}

await CommandRunner.main(ActorCommand.self)
