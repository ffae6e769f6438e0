import Foundation
import Logging
import MEow
import Synchronization
import Telemetry
import Wire

/// Why an actor process (or a gateway) stopped early.
enum UplinkEnd: Error, Sendable, Equatable {
    case runOver
    case failed(ActorError)
}

/// What the producer (environment thread, or a gateway's simulator server) and the network
/// tasks share: stop flags, the learner's version, the weights mailbox, finished episodes, counters.
final class UplinkState: Sendable {
    let stopRequested = Atomic<Bool>(false)
    let environmentDone = Atomic<Bool>(false)
    let learnerVersion = Atomic<UInt64>(0)
    let heldVersion = Atomic<UInt64>(0)
    let pullInFlight = Atomic<Bool>(false)
    /// Bumped when a new learner run welcomes this peer: weights of an earlier generation are dropped.
    let learnerGeneration = Atomic<Int>(0)
    /// The generation whose weights the gateway's simulator server last loaded.
    let servedGeneration = Atomic<Int>(0)
    let end = Mutex<UplinkEnd?>(nil)
    let mailbox = Mutex<(version: UInt64, tensors: [NamedTensor], generation: Int)?>(nil)
    let episodes = Mutex<[EpisodeSummary]>([])
    let stats: Mutex<ActorStats>
    /// Called on a stop request and again at the end of the run: each changes what a waiter gives up on.
    private let listeners = Mutex<[@Sendable () -> Void]>([])
    /// Set when the learner announces a newer version or a new run, or pulled weights arrive;
    /// `takeWeightsNews()` clears it. A producer waiting for outbox room follows the news.
    private let weightsNews = Atomic<Bool>(false)
    /// Called after each piece of weights news.
    private let newsListeners = Mutex<[@Sendable () -> Void]>([])

    init(stats: ActorStats) { self.stats = Mutex(stats) }

    /// A stop was asked for (SIGINT/SIGTERM): finish the step, flush, say GOODBYE.
    func requestStop() {
        stopRequested.store(true, ordering: .relaxed)
        notifyListeners()
    }

    var isEnded: Bool { end.withLock { $0 != nil } }

    /// Whether a stop was requested or the run ended.
    var isStopping: Bool { stopRequested.load(ordering: .relaxed) || isEnded }

    /// Calls `listener` on every later stop request or end of the run, and at once if either came
    /// already. It may run more than once, on any thread: it only wakes someone, who re-checks.
    func onStopOrEnd(_ listener: @escaping @Sendable () -> Void) {
        listeners.withLock { $0.append(listener) }
        // Registered first, checked second: a stop in between calls it twice, never zero times.
        if isStopping { listener() }
    }

    private func notifyListeners() {
        for listener in listeners.withLock({ $0 }) { listener() }
    }

    /// Calls `listener` after every later piece of weights news (see `takeWeightsNews()`), on any
    /// thread: it only wakes someone, who takes the news.
    func onWeightsNews(_ listener: @escaping @Sendable () -> Void) {
        newsListeners.withLock { $0.append(listener) }
    }

    /// Whether there was weights news since the last call: the learner announced a newer version or
    /// a new run, or pulled weights are in the mailbox.
    func takeWeightsNews() -> Bool {
        weightsNews.exchange(false, ordering: .acquiringAndReleasing)
    }

    /// Raised first, notified second: a waiter that checks the flag before sleeping never misses it.
    private func announceWeightsNews() {
        weightsNews.store(true, ordering: .releasing)
        for listener in newsListeners.withLock({ $0 }) { listener() }
    }

    /// Why transitions still held at exit are dropped: the reason counted in `droppedTransitions`.
    var dropReason: String {
        switch end.withLock({ $0 }) {
        case .runOver: "run-over"
        case .failed: "refused"
        case nil: stopRequested.load(ordering: .relaxed) ? "stopped" : "learner-unreachable"
        }
    }

    func finish(_ reason: UplinkEnd) {
        end.withLock { if $0 == nil { $0 = reason } }
        notifyListeners()
    }

    func observe(learnerVersion version: UInt64) {
        if learnerVersion.max(version, ordering: .relaxed).oldValue < version { announceWeightsNews() }
    }

    /// A new learner run welcomed this peer: forget the versions and weights of the earlier one.
    ///
    /// Version numbers of two learner runs do not compare (a fresh learner starts again at 0), so
    /// the held version drops to 0 and the next pull takes whatever the new learner serves.
    func learnerChanged(to welcome: Welcome) {
        learnerGeneration.add(1, ordering: .sequentiallyConsistent)
        mailbox.withLock { $0 = nil }
        heldVersion.store(0, ordering: .relaxed)
        learnerVersion.store(welcome.policyVersion, ordering: .relaxed)
        stats.withLock { $0.newLearnerWelcomes += 1 }
        announceWeightsNews()
    }

    /// Puts pulled weights in the mailbox unless a new learner run arrived since the pull began.
    func deliver(_ pulled: (version: UInt64, tensors: [NamedTensor]), generation: Int) {
        let delivered = mailbox.withLock { mailbox -> Bool in
            guard learnerGeneration.load(ordering: .sequentiallyConsistent) == generation else { return false }
            mailbox = (pulled.version, pulled.tensors, generation)
            return true
        }
        if delivered { announceWeightsNews() }
    }
}

/// The network side of an actor process: HELLO, the uploader (TRANSITIONS with seq, outbox and
/// resend; EPISODE_STATS), heartbeats, weight pulls and the stats file.
///
/// An actor and a gateway differ only in what fills the outbox (environments stepped here, or
/// simulators served over ACTION_REQUEST), so both run these same loops.
struct Uplink: Sendable {
    let configuration: ActorConfiguration
    let runID: UInt64
    let shared: UplinkState
    let logger = Logger(label: "meow.actor")

    /// The learner's first WELCOME; a stop meanwhile cancels the HELLO (and its backoff).
    func firstWelcome(_ connection: LearnerConnection) async -> Result<Welcome, UplinkEnd> {
        let hello = Task { try await connection.welcome().0 }
        shared.onStopOrEnd { hello.cancel() }
        do {
            return .success(try await hello.value)
        } catch LearnerConnection.SessionError.runOver {
            return .failure(.runOver)
        } catch LearnerConnection.SessionError.refused(let code, let text) {
            return .failure(.failed(.refused(code: code, text: text)))
        } catch {
            return .failure(.runOver)
        }
    }

    // MARK: - Network tasks

    /// Sends episode stats and the outbox's oldest batch, again and again, until the
    /// environments are done and the outbox is empty.
    func upload(outbox: Outbox, connection: LearnerConnection) async -> Bool {
        var arrivals = outbox.arrivals.makeAsyncIterator()
        let minimum = Duration.milliseconds(configuration.backoffMinimumMs)
        let maximum = Duration.milliseconds(configuration.backoffMaximumMs)
        var delay = minimum
        while !Task.isCancelled && !shared.isEnded {
            let episodes = shared.episodes.withLock { pending -> [EpisodeSummary] in
                let taken = Array(pending.prefix(configuration.limits.maxEpisodesPerMessage))
                pending.removeFirst(taken.count)
                return taken
            }
            let batch = episodes.isEmpty ? outbox.first() : nil
            if episodes.isEmpty && batch == nil {
                if shared.environmentDone.load(ordering: .relaxed) { return true }
                _ = await arrivals.next()
                continue
            }
            do {
                let (_, epoch) = try await connection.welcome()
                let history = connection.sessionHistory
                shared.stats.withLock { stats in
                    stats.hellos = history.hellos
                    stats.learnerRuns = history.learnerRunIDs
                }
                if !episodes.isEmpty {
                    let stats = EpisodeStats(actorID: configuration.actorID, runID: runID, episodes: episodes)
                    let reply = try await connection.exchange(.episodeStats(stats), on: connection.uploads)
                    if case .error(let error) = reply, error.code == .notWelcome {
                        connection.invalidate(epoch: epoch)
                        shared.episodes.withLock { $0.insert(contentsOf: episodes, at: 0) }
                    }
                    continue
                }
                guard let batch else { continue }
                shared.stats.withLock { $0.batchesSent += 1 }
                let reply = try await connection.exchange(.transitions(batch), on: connection.uploads)
                delay = minimum
                switch UploadDecision.decide(reply: reply, seq: batch.seq) {
                case .acknowledged(let duplicate, let version):
                    if let path = configuration.ackedLog { Self.appendRows(of: batch, to: path) }
                    // The version first: the environment thread the acknowledgement wakes pulls by it at once.
                    shared.observe(learnerVersion: version)
                    outbox.acknowledge(batch.seq)
                    shared.stats.withLock { stats in
                        stats.batchesAcked += 1
                        stats.transitionsAcked += batch.count
                        if duplicate { stats.duplicates += 1 }
                    }
                case .retry(let milliseconds, let version):
                    shared.observe(learnerVersion: version)
                    shared.stats.withLock { $0.tryLater += 1 }
                    // Timed wait: the learner's retry-after (backpressure), then the same seq again.
                    try await Task.sleep(for: .milliseconds(Int(milliseconds)))
                case .hello:
                    connection.invalidate(epoch: epoch)
                case .learnerStopping(let milliseconds):
                    connection.invalidate(epoch: epoch, reason: "the learner is shutting down")
                    // Timed wait: the stopping learner's retry-after, the time it says a restart takes.
                    try await Task.sleep(for: .milliseconds(Int(milliseconds)))
                case .runOver:
                    shared.finish(.runOver)
                case .fatal(let code, let text):
                    shared.finish(.failed(.refused(code: code, text: text)))
                case .unexpected(let reason):
                    logger.warning("actor \(configuration.actorID): \(reason); resending")
                    // Timed wait: exponential backoff before resending.
                    try await Task.sleep(for: delay)
                    delay = min(delay * 2, maximum)
                }
            } catch LearnerConnection.SessionError.runOver {
                shared.finish(.runOver)
            } catch LearnerConnection.SessionError.refused(let code, let text) {
                shared.finish(.failed(.refused(code: code, text: text)))
            } catch is CancellationError {
                break
            } catch {
                // Unreachable or timed out: the batch stays in the outbox; try again later.
                connection.noteFailure(error)
                // Timed wait: exponential backoff while the learner is unreachable.
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, maximum)
            }
        }
        return outbox.count == 0 && shared.episodes.withLock { $0.isEmpty }
    }

    /// Appends a batch's rows to the `--acked-log` file (`TransitionRows`).
    static func appendRows(of batch: Wire.TransitionBatch, to path: String) {
        let values = TransitionRows.interleave(
            count: batch.count, observationSize: batch.observationSize, actionSize: batch.actionSize,
            observations: batch.observations, actions: batch.actions, rewards: batch.rewards,
            nextObservations: batch.nextObservations)
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { return }
        _ = values.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }

    /// Sends HEARTBEAT every interval; a reply from a new learner run id triggers a new HELLO.
    func beat(connection: LearnerConnection, outbox: Outbox, interval: Duration) async {
        while !Task.isCancelled && !shared.isEnded {
            // Timed wait: the heartbeat period the learner's WELCOME asked for.
            try? await Task.sleep(for: interval)
            do {
                let (_, epoch) = try await connection.welcome()
                let stats = shared.stats.withLock { $0 }
                let beat = Heartbeat(
                    actorID: configuration.actorID, queueLength: UInt32(clamping: outbox.transitionCount),
                    runID: runID, policyVersion: stats.heldVersion, envSteps: UInt64(stats.envSteps),
                    episodes: UInt64(stats.episodes), batchesSent: UInt64(stats.batchesSent),
                    batchesAcked: UInt64(stats.batchesAcked), transitionsDropped: 0)
                switch try await connection.exchange(.heartbeat(beat), on: connection.control) {
                case .heartbeatReply(let reply):
                    connection.observe(learnerRunID: reply.learnerRunID)
                    shared.observe(learnerVersion: reply.policyVersion)
                case .error(let error) where error.code == .notWelcome:
                    connection.invalidate(epoch: epoch)
                case .error(let error) where error.code == .shuttingDown && error.retryAfterMs == 0:
                    shared.finish(.runOver)
                    outbox.ring()
                default:
                    break
                }
            } catch LearnerConnection.SessionError.runOver {
                shared.finish(.runOver)
            } catch LearnerConnection.SessionError.refused(let code, let text) {
                shared.finish(.failed(.refused(code: code, text: text)))
            } catch is CancellationError {
                break
            } catch {
                connection.noteFailure(error)
            }
        }
    }

    /// Pulls weights whenever the environment thread rings, into the mailbox it reads.
    func pullWeights(connection: LearnerConnection, requests: AsyncStream<Void>) async {
        for await _ in requests {
            if Task.isCancelled || shared.isEnded { break }
            await pullOnce(connection: connection)
            shared.pullInFlight.store(false, ordering: .relaxed)
        }
    }

    /// One pull of weights newer than those held (or in the mailbox) from the current learner run.
    func pullOnce(connection: LearnerConnection) async {
        let generation = shared.learnerGeneration.load(ordering: .sequentiallyConsistent)
        let held = max(shared.heldVersion.load(ordering: .relaxed), shared.mailbox.withLock { $0?.version ?? 0 })
        do {
            if let pulled = try await connection.pullWeights(held: held) {
                shared.deliver(pulled, generation: generation)
            }
        } catch is CancellationError {
            return
        } catch {
            connection.noteFailure(error)
        }
    }

    /// Writes the stats file every second and the progress line every progress interval.
    func report(outbox: Outbox, started: ContinuousClock.Instant) async {
        var lastProgress = ContinuousClock.now
        var lastSteps = 0
        while !Task.isCancelled {
            // Timed wait: the stats file's period (1 s); the progress line is due every few of them.
            try? await Task.sleep(for: .seconds(1))
            let stats = snapshot(outbox: outbox, started: started)
            if let path = configuration.statsFile { try? stats.write(to: path) }
            let now = ContinuousClock.now
            if configuration.progressIntervalMs > 0 && now - lastProgress >= .milliseconds(configuration.progressIntervalMs) {
                let sps = Double(stats.envSteps - lastSteps) / max(1e-3, (now - lastProgress).seconds)
                var line = "actor \(configuration.actorID): steps \(stats.envSteps)" + String(format: " SPS %.0f", sps)
                    + " episodes \(stats.episodes) version \(stats.heldVersion) acked \(stats.batchesAcked)"
                    + " outbox \(stats.outboxBatches)"
                if let ret = stats.lastReturn { line += String(format: " return %.1f", ret) }
                if stats.tryLater > 0 { line += " try-later \(stats.tryLater)" }
                logger.info("\(line)")
                lastProgress = now
                lastSteps = stats.envSteps
            }
        }
    }

    func snapshot(outbox: Outbox?, started: ContinuousClock.Instant) -> ActorStats {
        shared.stats.withLock { stats in
            if let outbox { stats.outboxBatches = outbox.count }
            stats.elapsedSeconds = (ContinuousClock.now - started).seconds
            return stats
        }
    }

    func finalStats(state: String, started: ContinuousClock.Instant) -> ActorStats {
        shared.stats.withLock { $0.state = state }
        let stats = snapshot(outbox: nil, started: started)
        if let path = configuration.statsFile { try? stats.write(to: path) }
        return stats
    }
}
