import Foundation
import Logging
import MEow
import NN
import Replay
import Simulators
import Synchronization
import Telemetry
import Transport
import Wire

/// The learner: one REP listener serving many actors, one training thread, replay,
/// rate limiting, weights and liveness.
///
/// ```
///  actors ──REQ──▶ REP contexts ──▶ RequestRouter ──lock──▶ IngestLedger (admit: room, dedupe, peers)
///                                        │   └─▶ WriteAheadLog (own thread: write + fdatasync per group)
///                                        │          └─ completion ──lock──▶ IngestLedger (commit: queue) ─▶ ACK
///                                 WeightsPublisher ◀── copy ── TrainingLoop (own thread: replay, agent)
/// ```
/// `run()` returns after a stop request (SIGINT/SIGTERM: `requestStop()`) or when the
/// run's step budget is spent, with the policy saved and the stats file written.
///
/// Lifecycle: a run whose spaces are not known yet (`--env external`, a preset without MuJoCo)
/// listens **waiting for the first peer** (stats `state` `waiting-for-first-peer`): networks,
/// replay and policy are sized by the spaces its HELLO brings, and are built then. A run that
/// knows its spaces (built in, or recorded by a resumed run) builds them, and publishes the
/// policy it continues, before it listens. Then it trains until finished or stopped.
public final class LearnerService: Sendable {
    public let configuration: LearnerConfiguration
    public let spec: EnvironmentSpec
    /// Bytes the replay ring occupies (reported at start-up).
    public let replayBytes: Int
    private let core: LearnerCore
    private let publisher: WeightsPublisher
    private let training: TrainingLoop
    private let writeAheadLog: WriteAheadLog
    /// Held while the service lives: no second learner writes this run directory.
    private let lock: RunDirectoryLock
    /// Serves ACTION_REQUEST from simulators.
    private let simulators: SimulatorServer
    private let started = ContinuousClock.now
    private let logger = Logger(label: "meow.learner")
    private let boundPort = Mutex<Int?>(nil)
    /// Env steps and updates at the start of this session (a resume's checkpoint), so rates count this session's only.
    private let firstSteps: Int
    private let firstUpdates: Int
    /// A resumed run whose step budget was already spent: it tells peers the run is over and ends.
    private let budgetSpent: Bool

    /// Prepares a run: validates the settings, checks that replay fits in memory, locks the run
    /// directory, refuses one that holds another run, writes config.json and reads back the
    /// write-ahead log. Nothing listens until `run()`.
    ///
    /// - Parameters:
    ///   - resume: a verified checkpoint (`CheckpointStore.load`) this run continues: the
    ///     agent, counters, generators and replay snapshot are restored by the training
    ///     thread before the first update (docs/checkpoints.md).
    ///   - continuing: this session continues the run in the run directory (`--resume`), with or
    ///     without a checkpoint: its write-ahead log is read back into replay and the dedupe
    ///     ledger. False: a fresh run, refused where a run already is unless `overwrite`.
    ///   - overwrite: a fresh run deletes an earlier run's files first.
    ///   - dumpReplay: debugging: a file that gets replay's rows when the training thread ends.
    ///   - makeAgent: builds the agent for the agreed spaces (on the training thread).
    public init(configuration: LearnerConfiguration, resume: LoadedCheckpoint? = nil, continuing: Bool? = nil,
                overwrite: Bool = false, dumpReplay: String? = nil,
                makeAgent: @escaping @Sendable (AgreedSpaces) throws -> any DistributedAgent) throws(LearnerError) {
        try configuration.validate()
        var spec = try EnvironmentSpec.resolve(configuration.environment, modelPath: configuration.modelPath)
        // A resumed run knows the spaces it recorded before any peer says HELLO.
        if let recorded = configuration.spaces { spec = try spec.resumed(with: recorded) }
        if let resume, resume.manifest.environment != spec.name {
            throw .checkpoint(.incompatible(
                reason: "it was trained on \(resume.manifest.environment), this learner runs \(spec.name)"))
        }
        let continuing = continuing ?? (resume != nil)
        self.configuration = configuration
        self.spec = spec
        if let reason = spec.fallbackReason {
            logger.warning("""
                meow-learner: MuJoCo is not available here (\(reason)); \(spec.name) takes its spaces from the \
                first peer's HELLO and the learner evaluates nothing itself
                """)
        }
        firstSteps = resume?.manifest.counters.steps ?? 0
        firstUpdates = resume?.manifest.counters.updates ?? 0
        budgetSpent = resume != nil && firstSteps >= configuration.agent.totalSteps

        // Replay is allocated by the training thread, but a capacity that cannot fit is refused now.
        let observationSize = spec.spaces?.observationSize ?? spec.allowedObservationSizes.max() ?? 1
        let actionSize = spec.spaces?.actionSize ?? spec.presetActionSize
        replayBytes = ReplayBuffer.bytes(capacity: configuration.agent.bufferSize,
                                         observationDimension: observationSize, actionDimension: actionSize)
        if let available = MemoryInfo.availableBytes(), replayBytes > available {
            throw .replay(.insufficientMemory(required: replayBytes, available: available))
        }

        let directory = configuration.runDirectory
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .io(path: directory, reason: "cannot create the run directory (\(fileErrorReason(error))); choose another --run-dir or fix its permissions")
        }
        lock = try RunDirectoryLock(runDirectory: directory)
        if !continuing { try LearnerRunFiles.claim(directory, overwrite: overwrite, logger: logger) }
        let configPath = directory + "/" + RunFiles.config
        do {
            try RunDirectory.write(configuration.rendered, to: URL(fileURLWithPath: configPath))
        } catch {
            throw .io(path: configPath, reason: fileErrorReason(error))
        }

        // The log of an earlier session: replay gets its transitions back, the ledger its marks.
        let recovered: RecoveredLog
        do {
            recovered = continuing ? try WriteAheadLog.recover(runDirectory: directory) : RecoveredLog()
            // A segment holds about an eighth of replay, so the log stays near one replay capacity.
            let segmentBytes = min(64 << 20, max(1 << 20, replayBytes / 8))
            writeAheadLog = try WriteAheadLog(runDirectory: directory, recovered: recovered,
                                              segmentBytes: segmentBytes, logger: logger)
        } catch {
            throw .writeAheadLog(error)
        }
        let ceiling = VersionCeiling(runDirectory: directory)
        // Served versions continue past every number an earlier session of this run may have used.
        let restoredVersion = UInt64(resume?.manifest.counters.policyVersion ?? 0)
        let versionOffset = continuing && ceiling.ceiling > 0 && ceiling.ceiling >= restoredVersion
            ? ceiling.ceiling + 1 - restoredVersion : 0

        var system = SystemRandomNumberGenerator()
        let welcome = Welcome(
            learnerRunID: 0, policyVersion: 0,
            warmupTransitions: UInt32(clamping: configuration.resolvedMinReplay),
            batchHint: UInt32(configuration.batchHint), maxBatch: UInt32(configuration.maxBatch),
            uploadIntervalMs: UInt32(configuration.uploadIntervalMs),
            weightsChunkBytes: UInt32(configuration.weightsChunkBytes),
            weightsRefreshSteps: UInt32(configuration.weightsRefreshSteps),
            heartbeatIntervalMs: UInt32(configuration.heartbeatIntervalMs),
            maxFrameBytes: UInt32(clamping: configuration.limits.maxFrameBytes),
            envID: spec.envID, preset: spec.name,
            weightsLag: WeightsLagRule(maxLagVersions: UInt32(configuration.weightsMaxLag),
                                       maxAgeMs: UInt32(configuration.weightsMaxAgeMs)))
        let settings = IngestSettings(
            token: configuration.token, maxActors: configuration.maxActors,
            maxStaleness: configuration.maxStaleness, queueCapacity: configuration.resolvedIngestQueueCapacity,
            maxBatch: configuration.maxBatch, totalSteps: configuration.agent.totalSteps,
            batchSize: configuration.agent.batchSize, welcome: welcome,
            resendHorizon: max(.seconds(600), .milliseconds(10 * configuration.resolvedPeerTimeoutMs)),
            magnitudes: MagnitudeLimits(observation: configuration.maxAbsObservation.map { Float($0) },
                                        reward: configuration.maxAbsReward.map { Float($0) }))
        var ledger = IngestLedger(settings: settings, spec: spec, limiter: configuration.makeRateLimiter(),
                                  learnerRunID: system.next())
        var marks = 0
        for (_, record) in recovered.records {
            guard let seen = record.seen else { continue }
            ledger.recordSeen(seen.key, seq: seen.seq)
            marks += 1
        }
        var restored = (updates: 0, skippedUpdates: 0)
        if let resume {
            // Before anything listens: a batch accepted meanwhile must count on top of the checkpoint's steps.
            do {
                ledger.restore(try LearnerCheckpoint.ledger(from: resume.manifest))
            } catch {
                throw .checkpoint(error)
            }
            restored = (resume.manifest.counters.updates, resume.manifest.counters.skippedUpdates)
        }
        ledger.recordTraining(policyVersion: versionOffset + restoredVersion, updates: restored.updates,
                              skippedUpdates: restored.skippedUpdates)
        ledger.continueLogged(transitions: Int(recovered.transitions))
        let core = LearnerCore(ledger: ledger)
        self.core = core
        publisher = WeightsPublisher(chunkBytes: configuration.weightsChunkBytes, ceiling: ceiling)
        // Built-in environments are evaluated by the training thread; any other run through its
        // simulators, which the training thread waits for (a completed round wakes it).
        let builtInEvaluation = spec.spaces != nil && spec.fallbackReason == nil && !spec.acceptsAnyShape
        let evaluator = builtInEvaluation ? nil : SimulatorEvaluator(onComplete: { core.withLedgerAndSignal { _ in } })
        training = TrainingLoop(core: core, publisher: publisher, configuration: configuration, spec: spec,
                                resume: resume, recovered: continuing ? recovered : nil, writeAheadLog: writeAheadLog,
                                versionOffset: versionOffset, dumpReplay: dumpReplay, evaluator: evaluator,
                                makeAgent: makeAgent)
        simulators = SimulatorServer(settings: SimulatorServerSettings(learner: configuration),
                                     sink: LedgerSimulatorSink(core: core, writeAheadLog: writeAheadLog),
                                     weights: publisher, metrics: nil, evaluator: evaluator,
                                     makeAgent: { try makeAgent($0) })
        core.onWaitEnded { [simulators] in simulators.roomMayHaveChanged() }
        if continuing {
            let torn = recovered.tornBytes > 0 ? ", a torn tail of \(recovered.tornBytes) bytes cut" : ""
            let versions = versionOffset > 0 ? "; versions continue past \(ceiling.ceiling)" : ""
            logger.info("""
                learner: write-ahead log \(writeAheadLog.directory): \(recovered.records.count) records, \
                \(recovered.transitions) transitions logged, \(marks) batches stay duplicates\(torn)\(versions)
                """)
        }
    }

    /// The learner's random run id (WELCOME and HEARTBEAT_REPLY carry it).
    public var learnerRunID: UInt64 { core.withLedger { $0.learnerRunID } }

    /// The TCP port bound, once `run()` listens (useful with port 0).
    public var port: Int? { boundPort.withLock { $0 } }

    /// Asks the learner to stop: refuse new work, finish the update in progress, save, exit.
    public func requestStop() {
        core.withLedgerAndSignal { $0.beginShutdown(.stopping) }
    }

    /// A snapshot of the counters.
    public func stats() -> LearnerStats {
        let loss = training.lastLoss.withLock { $0 }
        var stats = core.withLedger {
            LearnerStats(ledger: $0, replayBytes: replayBytes, lastLoss: loss, elapsed: ContinuousClock.now - started)
        }
        stats.simulators = simulators.stats()
        stats.writeAheadLog = writeAheadLog.stats
        return stats
    }

    /// Listens, trains and serves until stopped or finished; returns the final counters.
    public func run() async throws(LearnerError) -> LearnerStats {
        if budgetSpent {
            logger.notice("""
                learner: the run already took its \(firstSteps) env steps (total-steps \
                \(configuration.agent.totalSteps)): nothing to train, peers are told the run is over; give a larger \
                --total-steps to extend it
                """)
            core.withLedgerAndSignal { $0.beginShutdown(.finished) }
        }
        training.start()
        if spec.waitsForFirstPeer {
            logger.info("learner: waiting for the first peer: its HELLO brings the spaces the networks are built for")
        } else {
            // Nothing is served before the policy it continues (a resume's) is published.
            await training.ready()
        }
        let options = SocketOptions(maxMessageSize: configuration.limits.maxFrameBytes + 4,
                                    receiveTimeout: nil, sendTimeout: .seconds(2))
        let socket: ReplySocket
        let listener: Listener
        // A TLS listener logs its peers' connections (info): the only sign of a handshake that worked.
        let connections = RateLimitedLogger(logger, every: .max)
        // A connection that goes away ends its session (PROTOCOL.md 3.1); nng's thread only yields.
        let (closedPipes, closedPipe) = AsyncStream<UInt32>.makeStream()
        let logsPeers = configuration.tls != nil
        do {
            socket = try ReplySocket(options: options)
            try socket.socket.onPipeEvent { event in
                if event.kind == .disconnected { closedPipe.yield(event.pipe) }
                guard logsPeers else { return }
                let change = event.kind == .connected ? "TLS peer connected" : "TLS peer left"
                let from = event.remoteAddress.map { " from \($0)" } ?? ""
                connections.log(.info, "TLS peer", "learner: \(change)\(from) (pipe \(event.pipe))")
            }
            listener = try socket.listen(configuration.listen, tls: configuration.tls)
            boundPort.withLock { $0 = listener.port }
        } catch {
            requestStop()
            throw .listen(url: configuration.listen, reason: "\(error)")
        }
        let auth = configuration.token == nil ? "" : " (auth token required)"
        let mebibytes = String(format: "%.1f MiB", Double(replayBytes) / 1_048_576)
        logger.info("""
            learner: listening on \(configuration.listen)\(auth); env \(spec.envID); replay \
            \(configuration.agent.bufferSize) transitions, \(mebibytes); rate limiter \
            \(configuration.resolvedSamplesPerInsert) samples/insert, min replay \(configuration.resolvedMinReplay), \
            error buffer \(Int(configuration.resolvedErrorBuffer))
            """)

        var metricsServer: MetricsServer?
        var mirror: MetricsMirror?
        if let address = configuration.metricsListen {
            let metrics = LearnerMetrics()
            let publisher = self.publisher
            do {
                let listen = try ListenAddress(parsing: address)
                // Loopback stays open; beyond it the configuration holds a token (DistributedConfigResolver).
                let token = listen.isLoopback ? nil : configuration.token
                let server = try MetricsServer(address: listen, registry: metrics.registry, token: token,
                                               isReady: { publisher.newestVersion != nil })
                logger.info("learner: metrics on http://\(server.address)/metrics\(token == nil ? "" : " (bearer token required)")")
                metricsServer = server
                mirror = MetricsMirror(metrics: metrics, replayCapacity: configuration.agent.bufferSize)
                simulators.attach(metrics: metrics)
            } catch {
                socket.close()
                throw .listen(url: address, reason: "metrics endpoint: \(error)")
            }
        }
        defer { metricsServer?.stop() }

        simulators.start()
        let router = RequestRouter(core: core, publisher: publisher, writeAheadLog: writeAheadLog,
                                   staleDrops: RateLimitedLogger(logger, every: .max),
                                   limits: configuration.limits, simulators: simulators)
        let server = Task {
            try? await socket.serve(contexts: configuration.serverContexts,
                                    pipeHandler: { await router.handle($0, pipe: $1) })
        }
        // A connection that closes ends its session; the stream ends when the socket closes.
        let sessionCloser = Task {
            for await pipe in closedPipes { router.pipeClosed(pipe) }
        }

        // The next due housekeeping and the training thread's end arrive on one stream, so this task
        // sleeps until whichever comes first.
        let (events, event) = AsyncStream.makeStream(of: ServiceEvent.self)
        let finisher = Task { [training] in
            let outcome = await training.wait()
            event.yield(.finished)
            return outcome
        }
        let timeout = Duration.milliseconds(configuration.resolvedPeerTimeoutMs)
        let statsInterval = Duration.milliseconds(configuration.statsIntervalMs)
        let progressInterval = configuration.progressIntervalMs > 0
            ? Duration.milliseconds(configuration.progressIntervalMs) : nil
        // A silent peer is forgotten within 1.1 peer timeouts.
        let sweepInterval = max(timeout / 10, .milliseconds(10))

        let serving = ContinuousClock.now
        var lastStats = serving
        var lastProgress = serving
        var lastSweep = serving
        // Failed handshakes never become pipes; nng only counts them (docs/deployment.md).
        let handshakeFailures = RateLimitedLogger(logger, every: .max)
        var listenerFailures = configuration.tls == nil ? nil : listener.failures
        var previous = (steps: firstSteps, updates: firstUpdates, at: serving)
        var pending = events.makeAsyncIterator()
        while true {
            var due = min(lastStats + statsInterval, lastSweep + sweepInterval)
            if let progressInterval { due = min(due, lastProgress + progressInterval) }
            let timer = Task {
                // Timed wait: until the next housekeeping is due (stats file, progress line, silent peers).
                try? await Task.sleep(until: due, clock: .continuous)
                event.yield(.due(due))
            }
            guard case .due(let tick) = await pending.next() else {
                timer.cancel()
                break
            }
            if Self.isDue(&lastSweep, every: sweepInterval, at: tick) {
                let forgotten = core.withLedger { $0.forgetSilentPeers(now: .now, timeout: timeout) }
                for key in forgotten { logger.info("learner: forgot actor \(key.actorID) (run \(key.runID)): silent") }
            }
            if Self.isDue(&lastStats, every: statsInterval, at: tick) {
                let current = stats()
                try? current.write(to: configuration.resolvedStatsFile)
                mirror?.update(current, chunksServed: publisher.chunksServed,
                               evaluation: training.lastEvaluation.withLock { $0?.meanReturn })
                if let earlier = listenerFailures, let failures = listener.failures {
                    listenerFailures = failures
                    let recent = failures.since(earlier)
                    if recent.total > 0 {
                        handshakeFailures.warning("TLS handshake",
                            "learner: \(recent.total) connection(s) failed the TLS handshake on \(configuration.listen) "
                                + "(\(failures.total) in all); nng 1.5.2 gives no peer address or reason, the dialling "
                                + "side logs why (wrong CA, wrong --tls-server-name, or a plain tcp:// dial)")
                    }
                }
            }
            if let progressInterval, Self.isDue(&lastProgress, every: progressInterval, at: tick) {
                let current = stats()
                logger.info("\(progressLine(current, since: previous))")
                previous = (current.envSteps, current.updates, .now)
            }
        }
        event.finish()
        let outcome = await finisher.value
        // Tell peers why, briefly, before the socket goes: "run over" (retry 0) or "stopping" (retry later).
        core.withLedger { $0.beginShutdown($0.shutdown == .finished ? .finished : .stopping) }
        let runOver = core.withLedger { $0.shutdown == .finished }
        // A resumed run with nothing to do stays a little longer, so peers started with it hear why.
        let grace = budgetSpent ? max(2 * configuration.heartbeatIntervalMs, 5000) : 2 * configuration.heartbeatIntervalMs
        // Timed wait: a drain budget: peers' next requests (a heartbeat period or two) hear why the learner goes.
        try? await Task.sleep(for: runOver ? .milliseconds(grace) : .milliseconds(200))
        simulators.stop()
        socket.close()
        server.cancel()
        _ = await server.value
        closedPipe.finish()
        sessionCloser.cancel()
        writeAheadLog.close()
        let final = stats()
        try? final.write(to: configuration.resolvedStatsFile)
        mirror?.update(final, chunksServed: publisher.chunksServed,
                       evaluation: training.lastEvaluation.withLock { $0?.meanReturn })
        if let path = outcome.policyPath { logger.info("learner: saved the policy to \(path)") }
        if let path = outcome.checkpoint { logger.info("learner: last checkpoint \(path)") }
        logger.info("learner: \(progressLine(final, since: previous))")
        if let error = outcome.error { throw error }
        return final
    }

    private func progressLine(_ stats: LearnerStats, since previous: (steps: Int, updates: Int, at: ContinuousClock.Instant)) -> String {
        let seconds = max(1e-3, (ContinuousClock.now - previous.at).seconds)
        let ingest = Double(stats.envSteps - previous.steps) / seconds
        let updates = Double(stats.updates - previous.updates) / seconds
        let sps = Double(stats.envSteps - firstSteps) / max(1e-3, stats.elapsedSeconds)
        var line = "steps \(stats.envSteps) updates \(stats.updates) version \(stats.policyVersion)"
            + String(format: " ingest %.0f/s updates %.1f/s SPS %.0f", ingest, updates, sps)
            + " actors \(stats.liveActors) replay \(stats.replaySize)"
        if let ret = stats.meanRecentReturn { line += String(format: " return %.1f", ret) }
        if let staleness = stats.staleness {
            line += String(format: " staleness p50 %d p99 %d mean %.1f", staleness.p50, staleness.p99, staleness.mean)
        }
        if stats.tryLater > 0 { line += " try-later \(stats.tryLater)" }
        return line
    }
}

/// What wakes `LearnerService.run` between requests: housekeeping that fell due, or the training thread's end.
private enum ServiceEvent: Sendable {
    /// Housekeeping due at this instant.
    case due(ContinuousClock.Instant)
    case finished
}

extension LearnerService {
    /// Whether housekeeping done every `interval` is due at `tick` (the instant its timer was set
    /// for); if so moves `last` on: to `tick`, so the schedule keeps its period however late the
    /// wake-up, or to now after a wake-up later than a whole interval, so no burst catches up.
    static func isDue(_ last: inout ContinuousClock.Instant, every interval: Duration,
                      at tick: ContinuousClock.Instant) -> Bool {
        guard tick >= last + interval else { return false }
        let now = ContinuousClock.now
        last = now - tick >= interval ? now : tick
        return true
    }
}
