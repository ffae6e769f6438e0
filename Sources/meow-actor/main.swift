import Acting
import ArgumentParser
import CommandLineOptions
import Foundation
import Learning
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
        discussion: "Flags may also come from --config FILE (a JSON object of flag names and values).")

    @Option(help: "Learner URL.") var connect = "tcp://127.0.0.1:7700"
    @Option(help: ArgumentHelp("Gateway mode: serve ACTION_REQUEST for simulators on this URL (e.g. tcp://127.0.0.1:7701) "
        + "with a local policy, and upload their transitions to the learner; --token guards both sides."))
    var gatewayListen: String?
    @Option(help: "Built-in environment.") var env = "pendulum"
    @Option(help: "Environment copies in this process.") var envs = 1
    @Option(help: "Actor index; seeds are the run seed plus this index.") var actorId: UInt32 = 0
    @Option(help: "Run seed.") var seed: UInt64 = 1
    @Option(help: "JSON file of flags (read before the command line).") var config: String?
    @OptionGroup(title: "Authentication") var auth: TokenOptions
    @Option(help: "CA certificate (PEM) to check a tls+tcp:// learner.") var tlsCa: String?
    @Option(help: "Name the learner's certificate must carry (a DNS name, not an IP literal).") var tlsServerName: String?
    @Option(help: "Transitions per TRANSITIONS message (default: the learner's hint).") var batchSize: Int?
    @Option(help: "Longest a partial batch waits (ms; default: the learner's).") var batchIntervalMs: Int?
    @Option(help: "Pull weights every N env steps (default: the learner's).") var weightsEvery: Int?
    @Option(help: "Stop after N env steps (default: until the learner ends the run).") var maxSteps: Int?
    @Option(help: "Time limit of the environment (default: its own).") var maxEpisodeSteps: Int?
    @Option(help: "Unacknowledged batches kept for resending; a full outbox pauses the environments.")
    var outboxCapacity = 64
    @Option(help: "Reply timeout of one request (ms).") var requestTimeoutMs = 2000
    @Option(help: "Counters as JSON, rewritten every second.") var statsFile: String?
    @Flag(help: "No progress line.") var quiet = false
    @OptionGroup(title: "Policy shape (must match the learner's)") var shape: PolicyShapeOptions
    @OptionGroup(title: "BLAS") var blas: BLASOptions

    func validate() throws {
        _ = try makeConfiguration()
    }

    func makeConfiguration() throws -> ActorConfiguration {
        var c = ActorConfiguration()
        c.connect = connect
        c.environment = env
        c.environments = envs
        c.actorID = actorId
        c.seed = seed
        c.token = try auth.resolved()
        if tlsCa != nil || tlsServerName != nil { c.tls = .client(caFile: tlsCa, serverName: tlsServerName) }
        c.batchSize = batchSize
        c.batchIntervalMs = batchIntervalMs
        c.weightsEvery = weightsEvery
        c.maxSteps = maxSteps
        c.maxEpisodeSteps = maxEpisodeSteps
        c.outboxCapacity = outboxCapacity
        c.requestTimeoutMs = requestTimeoutMs
        c.statsFile = statsFile
        if quiet { c.progressIntervalMs = 0 }
        do { try c.validate() } catch { throw ValidationError("\(error)") }
        return c
    }

    func run() async throws {
        let configuration = try makeConfiguration()
        blas.loadAndLog()
        let log = standardErrorLog
        let shape = self.shape
        if let gatewayListen {
            try await runGateway(configuration: configuration, listen: gatewayListen, shape: shape, log: log)
            return
        }
        let process: ActorProcess
        do {
            process = try ActorProcess(configuration: configuration, makePolicy: { observationSize, actionSize, welcome in
                let config = shape.applied(to: MEowConfig.preset(welcome.preset) ?? MEowConfig())
                let agent = try DistributedAgents.make(config: config, observationDimension: observationSize,
                                                       actionDimension: actionSize)
                return ActingPolicy(
                    act: { observations, count, rng in
                        agent.act(observations: observations, count: count, deterministic: false, rng: &rng)
                    },
                    load: { try agent.loadPolicyTensors($0) })
            }, log: log)
        } catch {
            log("meow-actor: \(error)")
            throw ExitCode(2)
        }
        do {
            let stats = try await CommandRunner.withStopSignal({ process.requestStop() }) { try await process.run() }
            log("meow-actor \(configuration.actorID): \(stats.state): \(stats.envSteps) env steps, "
                + "\(stats.batchesAcked) batches acknowledged, policy version \(stats.heldVersion)")
        } catch {
            log("meow-actor \(configuration.actorID): \(error)")
            throw ExitCode(1)
        }
    }
}

extension ActorCommand {
    /// `--gateway-listen`: serve simulators with a local copy of the learner's policy.
    func runGateway(configuration: ActorConfiguration, listen: String, shape: PolicyShapeOptions,
                    log: @escaping @Sendable (String) -> Void) async throws {
        let gateway: SimulatorGateway
        do {
            gateway = try SimulatorGateway(configuration: configuration, listen: listen, makePolicy: { obs, act, welcome in
                let config = shape.applied(to: MEowConfig.preset(welcome.preset) ?? MEowConfig())
                return try DistributedAgents.make(config: config, observationDimension: obs, actionDimension: act)
            }, log: log)
        } catch {
            log("meow-actor: \(error)")
            throw ExitCode(2)
        }
        do {
            let stats = try await CommandRunner.withStopSignal({ gateway.requestStop() }) { try await gateway.run() }
            log("meow-actor gateway \(configuration.actorID): \(stats.state): \(stats.envSteps) transitions, "
                + "\(stats.batchesAcked) batches acknowledged, policy version \(stats.heldVersion)")
        } catch {
            log("meow-actor gateway \(configuration.actorID): \(error)")
            throw ExitCode(1)
        }
    }
}

await CommandRunner.main(ActorCommand.self)
