import ArgumentParser
import CommandLineOptions
import Foundation
import Learning
import MEow
import Transport

/// `meow-learner`: the learner service of a distributed MEow run (issue 5).
struct LearnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meow-learner",
        abstract: "Train MEow from transitions that meow-actor processes send over nng.",
        discussion: "Flags may also come from --config FILE (a JSON object of flag names and values); "
            + "flags on the command line override the file.")

    @Option(help: "Listen URL (tcp://, ipc://, tls+tcp://).") var listen = "tcp://127.0.0.1:7700"
    @Option(help: "Built-in environment (\(EnvironmentSpec.names.joined(separator: ", "))); MuJoCo presets take their spaces from the first actor.")
    var env = "pendulum"
    @Option(help: "Run directory (policy.safetensors, metrics.csv, learner-stats.json, ingest.log).") var runDir: String?
    @Option(help: "JSON file of flags (read before the command line).") var config: String?
    @OptionGroup(title: "Authentication") var auth: TokenOptions
    @Option(help: "Prometheus /metrics, /healthz, /readyz on HOST:PORT (a port alone means 127.0.0.1).")
    var metricsListen: String?
    @Option(help: "Certificate (PEM) for a tls+tcp:// listener.") var tlsCert: String?
    @Option(help: "Private key (PEM) for --tls-cert.") var tlsKey: String?

    @Option(help: "Most live actors.") var maxActors: Int?
    @Option(help: "Drop batches whose policy lags the learner by more than this many versions.") var maxStaleness: Int?
    @Option(help: "Sampled transitions per inserted one (default: batch size × updates per step).") var samplesPerInsert: Double?
    @Option(help: "Transitions in replay before the first update (default: max(learning starts, batch size)).") var minReplay: Int?
    @Option(help: "Rate limiter error buffer in sampled items (default: room for one max batch).") var errorBuffer: Double?
    @Option(help: "Transitions per TRANSITIONS message actors should send.") var batchHint: Int?
    @Option(help: "Most transitions per TRANSITIONS message accepted.") var maxBatch: Int?
    @Option(help: "Longest an actor holds a partial batch (ms).") var uploadIntervalMs: Int?
    @Option(help: "WEIGHTS chunk size in bytes.") var weightsChunkBytes: Int?
    @Option(help: "Env steps between an actor's weight polls.") var weightsRefreshSteps: Int?
    @Option(help: "Heartbeat period (ms).") var heartbeatIntervalMs: Int?
    @Option(help: "Forget actors silent this long (ms; default 3 heartbeats).") var peerTimeoutMs: Int?
    @Option(help: "Counters as JSON, rewritten every second (default: <run-dir>/learner-stats.json).") var statsFile: String?
    @Flag(help: "No progress line.") var quiet = false

    @OptionGroup(title: "MEow hyperparameters (default: the --env preset)") var hyperparameters: MEowOptions
    @OptionGroup(title: "BLAS") var blas: BLASOptions

    func validate() throws {
        _ = try makeConfiguration()
    }

    func makeConfiguration() throws -> LearnerConfiguration {
        var c = LearnerConfiguration()
        c.listen = listen
        let spec: EnvironmentSpec
        do { spec = try EnvironmentSpec.resolve(env) } catch { throw ValidationError("\(error)") }
        c.environment = spec.name
        c.runDirectory = runDir ?? "runs/\(spec.name)-learner"
        guard let preset = MEowConfig.preset(spec.name) else {
            throw ValidationError("No hyperparameter preset for \(spec.name).")
        }
        c.agent = hyperparameters.overrides.applied(to: preset)
        c.token = try auth.resolved()
        switch (tlsCert, tlsKey) {
        case (nil, nil): break
        case (let certificate?, let key?): c.tls = .server(certificateFile: certificate, keyFile: key)
        default: throw ValidationError("Give both --tls-cert and --tls-key.")
        }
        if let maxActors { c.maxActors = maxActors }
        c.maxStaleness = maxStaleness
        c.samplesPerInsert = samplesPerInsert
        c.minReplay = minReplay
        c.errorBuffer = errorBuffer
        if let batchHint { c.batchHint = batchHint }
        if let maxBatch { c.maxBatch = maxBatch }
        if let batchHint, maxBatch == nil { c.maxBatch = max(c.maxBatch, batchHint) }
        if let uploadIntervalMs { c.uploadIntervalMs = uploadIntervalMs }
        if let weightsChunkBytes { c.weightsChunkBytes = weightsChunkBytes }
        if let weightsRefreshSteps { c.weightsRefreshSteps = weightsRefreshSteps }
        if let heartbeatIntervalMs { c.heartbeatIntervalMs = heartbeatIntervalMs }
        c.peerTimeoutMs = peerTimeoutMs
        c.statsFile = statsFile
        if let metricsListen {
            c.metricsListen = metricsListen.allSatisfy(\.isNumber) ? "127.0.0.1:\(metricsListen)" : metricsListen
        }
        if quiet { c.progressIntervalMs = 0 }
        do { try c.validate() } catch { throw ValidationError("\(error)") }
        return c
    }

    func run() async throws {
        let configuration = try makeConfiguration()
        blas.loadAndLog()
        let log = standardErrorLog
        let agentConfig = configuration.agent
        let service: LearnerService
        do {
            service = try LearnerService(configuration: configuration, makeAgent: { spaces in
                try DistributedAgents.make(config: agentConfig, observationDimension: spaces.observationSize,
                                           actionDimension: spaces.actionSize)
            }, log: log)
        } catch {
            log("meow-learner: \(error)")
            throw ExitCode(2)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let configJSON = try encoder.encode(configuration.agent)
        try configJSON.write(to: URL(fileURLWithPath: configuration.runDirectory + "/config.json"))
        log("meow-learner: config \(String(decoding: configJSON, as: UTF8.self))")

        do {
            let stats = try await CommandRunner.withStopSignal({
                log("meow-learner: stopping (signal): finishing the update, saving the policy")
                service.requestStop()
            }) { try await service.run() }
            print("meow-learner: \(stats.envSteps) env steps, \(stats.updates) updates, policy version "
                  + "\(stats.policyVersion), \(stats.actors.count) actors; \(configuration.runDirectory)/policy.safetensors")
        } catch {
            log("meow-learner: \(error)")
            throw ExitCode(1)
        }
    }
}

await CommandRunner.main(LearnerCommand.self)
