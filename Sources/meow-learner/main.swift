import ArgumentParser
import CommandLineOptions
import Foundation
import Learning
import Logging
import MEow
import Transport

/// `meow-learner`: the learner service of a distributed MEow run.
struct LearnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meow-learner",
        abstract: "Train MEow from transitions that meow-actor processes send over nng.",
        discussion: """
            Settings come from the --env preset, then --config FILE (its env, meow, run and learner \
            sections), then the flags (docs/configuration.md). --resume DIR continues from a checkpoint \
            directory or a run directory's latest checkpoint, and replays the run's write-ahead log \
            (docs/checkpoints.md); a run directory that holds a run is refused without --resume or --overwrite.
            """,
        version: MEowVersion.current)

    @Option(help: "Listen URL (tcp://, ipc://, tls+tcp://; default tcp://127.0.0.1:7700).") var listen: String?
    @Option(help: "Built-in environment (\(EnvironmentSpec.names.filter { $0 != EnvironmentSpec.externalName }.joined(separator: ", "))), or external: any shape, from the first peer, with the default hyperparameters; MuJoCo presets take their spaces from the first actor (default: the config file's env, else pendulum).")
    var env: String?
    @Option(help: "MuJoCo model file (MJCF) replacing the task's built-in model, for the learner's evaluation (default: the config file's, else the checkpoint's).")
    var model: String?
    @Option(help: "A JSON config file (docs/configuration.md; `meow config` prints a template).") var config: String?
    @Option(help: "Continue from a checkpoint directory, or a run directory's latest checkpoint (or its write-ahead log alone, before the first checkpoint).") var resume: String?
    @Flag(help: "Start afresh in a run directory that holds an earlier run, deleting that run's files.") var overwrite = false
    @Option(help: .hidden) var dumpReplay: String?
    @OptionGroup(title: "Authentication") var auth: TokenOptions
    @Option(help: "Certificate (PEM) for a tls+tcp:// listener.") var tlsCert: String?
    @Option(help: "Private key (PEM) for --tls-cert.") var tlsKey: String?

    @Option(help: "Most live actors.") var maxActors: Int?
    @Option(help: "Drop batches whose policy lags the learner by more than this many versions.") var maxStaleness: Int?
    @Option(help: "Refuse observations with an element beyond ± this (default: any finite value).")
    var maxAbsObservation: Double?
    @Option(help: "Refuse rewards beyond ± this (default: any finite value).") var maxAbsReward: Double?
    @Option(help: "Sampled transitions per inserted one (default: batch size × updates per step).") var samplesPerInsert: Double?
    @Option(help: "Transitions in replay before the first update (default: max(learning starts, batch size)).") var minReplay: Int?
    @Option(help: "Rate limiter error buffer in sampled items (default: room for one max batch).") var errorBuffer: Double?
    @Option(help: "Transitions waiting for the training thread (default: 8 × max batch).") var ingestQueueCapacity: Int?
    @Option(help: "Transitions per TRANSITIONS message actors should send.") var batchHint: Int?
    @Option(help: "Most transitions per TRANSITIONS message accepted.") var maxBatch: Int?
    @Option(help: "Longest an actor holds a partial batch (ms).") var uploadIntervalMs: Int?
    @Option(help: "WEIGHTS chunk size in bytes.") var weightsChunkBytes: Int?
    @Option(help: "Env steps between an actor's weight polls.") var weightsRefreshSteps: Int?
    @Option(help: "Actors pull weights once this many versions behind (0: off; default 20).") var weightsMaxLag: Int?
    @Option(help: "Actors pull weights once theirs are this old and newer exist (ms; 0: off; default 500).")
    var weightsMaxAgeMs: Int?
    @Option(help: "Heartbeat period (ms).") var heartbeatIntervalMs: Int?
    @Option(help: "Forget actors silent this long (ms; default 3 heartbeats).") var peerTimeoutMs: Int?
    @Option(help: "Concurrent REP contexts serving requests.") var serverContexts: Int?
    @Option(help: "Shortest time between two WEIGHTS snapshots (ms).") var weightsPublishIntervalMs: Int?
    @Option(help: "Counters as JSON, rewritten every second (default: <run-dir>/learner-stats.json).") var statsFile: String?
    @Option(help: "Period of the stats file (ms).") var statsIntervalMs: Int?
    @Option(help: "Period of the progress line (ms; 0: none).") var progressIntervalMs: Int?
    @Flag(help: "No progress line.") var quiet = false

    @OptionGroup(title: "MEow hyperparameters (default: the config file, else the --env preset)") var hyperparameters: MEowOptions
    @OptionGroup(title: "Run settings: run directory, checkpoints, metrics endpoint") var runOptions: RunOptions
    @OptionGroup(title: "BLAS") var blas: BLASOptions
    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        if resume != nil && overwrite {
            throw ValidationError("--overwrite would delete the run being resumed; drop --overwrite.")
        }
        if resume == nil { _ = try makeConfiguration(resume: nil) }
    }

    /// The learner flags given, by config key.
    private var learnerFlags: Set<String> {
        let given: [(String, Any?)] = [
            ("listen", listen), ("max-actors", maxActors), ("max-staleness", maxStaleness),
            ("max-abs-observation", maxAbsObservation), ("max-abs-reward", maxAbsReward),
            ("samples-per-insert", samplesPerInsert), ("min-replay", minReplay), ("error-buffer", errorBuffer),
            ("ingest-queue-capacity", ingestQueueCapacity), ("batch-hint", batchHint), ("max-batch", maxBatch),
            ("upload-interval-ms", uploadIntervalMs), ("weights-chunk-bytes", weightsChunkBytes),
            ("weights-refresh-steps", weightsRefreshSteps), ("weights-max-lag", weightsMaxLag),
            ("weights-max-age-ms", weightsMaxAgeMs), ("heartbeat-interval-ms", heartbeatIntervalMs),
            ("peer-timeout-ms", peerTimeoutMs), ("server-contexts", serverContexts),
            ("weights-publish-interval-ms", weightsPublishIntervalMs), ("stats-file", statsFile),
            ("stats-interval-ms", statsIntervalMs), ("progress-interval-ms", quiet ? 0 : progressIntervalMs),
            ("tls-cert", tlsCert), ("tls-key", tlsKey),
        ]
        return Set(given.compactMap { name, value in value.map { _ in name } })
    }

    private func applyFlags(_ c: inout LearnerConfiguration) {
        func set<V>(_ path: WritableKeyPath<LearnerConfiguration, V>, _ value: V?) {
            if let value { c[keyPath: path] = value }
        }
        func set<V>(_ path: WritableKeyPath<LearnerConfiguration, V?>, _ value: V?) {
            if let value { c[keyPath: path] = value }
        }
        set(\.listen, listen)
        set(\.maxActors, maxActors)
        set(\.maxStaleness, maxStaleness)
        set(\.maxAbsObservation, maxAbsObservation)
        set(\.maxAbsReward, maxAbsReward)
        set(\.samplesPerInsert, samplesPerInsert)
        set(\.minReplay, minReplay)
        set(\.errorBuffer, errorBuffer)
        set(\.ingestQueueCapacity, ingestQueueCapacity)
        set(\.batchHint, batchHint)
        set(\.maxBatch, maxBatch)
        if let batchHint, maxBatch == nil { c.maxBatch = max(c.maxBatch, batchHint) }
        set(\.uploadIntervalMs, uploadIntervalMs)
        set(\.weightsChunkBytes, weightsChunkBytes)
        set(\.weightsRefreshSteps, weightsRefreshSteps)
        set(\.weightsMaxLag, weightsMaxLag)
        set(\.weightsMaxAgeMs, weightsMaxAgeMs)
        set(\.heartbeatIntervalMs, heartbeatIntervalMs)
        set(\.peerTimeoutMs, peerTimeoutMs)
        set(\.serverContexts, serverContexts)
        set(\.weightsPublishIntervalMs, weightsPublishIntervalMs)
        set(\.statsFile, statsFile)
        set(\.statsIntervalMs, statsIntervalMs)
        set(\.progressIntervalMs, progressIntervalMs)
        if quiet { c.progressIntervalMs = 0 }
        set(\.tlsCertificateFile, tlsCert)
        set(\.tlsKeyFile, tlsKey)
    }

    /// - Parameter logOnly: a run directory resumed from its write-ahead log alone (no checkpoint
    ///   yet): it is the run directory, and its config.json the config file unless --config is given.
    func makeConfiguration(resume: LoadedCheckpoint?, logOnly: String? = nil) throws -> LearnerConfiguration {
        var runOverrides = runOptions.overrides(blas: blas)
        // A resumed run stays in its own run directory unless told otherwise.
        if runOverrides.runDir == nil, let resume { runOverrides.runDir = resume.runDirectory.path }
        if runOverrides.runDir == nil, let logOnly { runOverrides.runDir = logOnly }
        let configFile = config ?? logOnly.map { $0 + "/" + RunFiles.config }
        let token = try auth.resolved()
        return try configured { () throws(ConfigurationError) in
            try DistributedConfigResolver.learner(
                environment: env, configFile: configFile, meow: hyperparameters.overrides, run: runOverrides,
                learnerFlags: learnerFlags, applyLearnerFlags: applyFlags, token: token, resume: resume?.manifest,
                modelPath: model)
        }
    }

    func run() async throws {
        let logger = logging.bootstrap(label: "meow.learner")
        var checkpoint: LoadedCheckpoint?
        var logOnly: String?
        if let resume {
            let manager = FileManager.default
            let hasCheckpoint = manager.fileExists(atPath: resume + "/manifest.json")
                || manager.fileExists(atPath: resume + "/" + RunFiles.checkpoints + "/latest")
            if !hasCheckpoint && (WriteAheadLog.exists(in: resume) || manager.fileExists(atPath: resume + "/" + RunFiles.config)) {
                // A crash before the first checkpoint: the log alone holds the run.
                logger.notice("meow-learner: \(resume) has no checkpoint yet; continuing from its write-ahead log")
                logOnly = resume
            } else {
                do {
                    checkpoint = try CheckpointStore.load(URL(fileURLWithPath: resume))
                } catch {
                    logger.error("meow-learner: cannot resume: \(error)")
                    throw ExitCode(2)
                }
            }
        }
        let configuration = try makeConfiguration(resume: checkpoint, logOnly: logOnly)
        BLASOptions.loadAndLog(core: configuration.run.blasCore, threads: configuration.run.blasThreads)
        logger.info("meow-learner: effective configuration (docs/configuration.md)\n\(configuration.rendered)")
        let agentConfig = configuration.agent
        let service: LearnerService
        do {
            service = try LearnerService(configuration: configuration, resume: checkpoint, continuing: resume != nil,
                                         overwrite: overwrite, dumpReplay: dumpReplay, makeAgent: { spaces in
                try DefaultAgent.make(config: agentConfig, observationDimension: spaces.observationSize,
                                      actionDimension: spaces.actionSize)
            })
        } catch {
            logger.error("meow-learner: \(error)")
            throw ExitCode(2)
        }

        do {
            let stats = try await CommandRunner.withStopSignal({
                logger.notice("meow-learner: stopping (signal): finishing the update, saving a checkpoint and the policy")
                service.requestStop()
            }) { try await service.run() }
            print("meow-learner: \(stats.envSteps) env steps, \(stats.updates) updates, policy version "
                  + "\(stats.policyVersion), \(stats.actors.count) actors; \(configuration.runDirectory)/policy.safetensors")
        } catch {
            logger.error("meow-learner: \(error)")
            throw ExitCode(1)
        }
    }
}

await CommandRunner.main(LearnerCommand.self)
