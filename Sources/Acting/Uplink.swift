import Foundation
import MEow
import Synchronization
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
    let end = Mutex<UplinkEnd?>(nil)
    let mailbox = Mutex<(version: UInt64, tensors: [NamedTensor])?>(nil)
    let episodes = Mutex<[EpisodeSummary]>([])
    let stats: Mutex<ActorStats>

    init(stats: ActorStats) { self.stats = Mutex(stats) }

    var isEnded: Bool { end.withLock { $0 != nil } }

    func finish(_ reason: UplinkEnd) {
        end.withLock { if $0 == nil { $0 = reason } }
    }

    func observe(learnerVersion version: UInt64) {
        learnerVersion.max(version, ordering: .relaxed)
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
    let log: @Sendable (String) -> Void

    func firstWelcome(_ connection: LearnerConnection) async -> Result<Welcome, UplinkEnd> {
        let hello = Task { try await connection.welcome().0 }
        let watcher = Task {
            while !Task.isCancelled {
                if shared.stopRequested.load(ordering: .relaxed) {
                    hello.cancel()
                    return
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        defer { watcher.cancel() }
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
                    outbox.acknowledge(batch.seq)
                    shared.observe(learnerVersion: version)
                    shared.stats.withLock { stats in
                        stats.batchesAcked += 1
                        stats.transitionsAcked += batch.count
                        if duplicate { stats.duplicates += 1 }
                    }
                case .retry(let milliseconds, let version):
                    shared.observe(learnerVersion: version)
                    shared.stats.withLock { $0.tryLater += 1 }
                    try await Task.sleep(for: .milliseconds(Int(milliseconds)))
                case .hello:
                    connection.invalidate(epoch: epoch)
                case .learnerStopping(let milliseconds):
                    connection.invalidate(epoch: epoch)
                    try await Task.sleep(for: .milliseconds(Int(milliseconds)))
                case .runOver:
                    shared.finish(.runOver)
                case .fatal(let code, let text):
                    shared.finish(.failed(.refused(code: code, text: text)))
                case .unexpected(let reason):
                    log("actor \(configuration.actorID): \(reason); resending")
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
                try? await Task.sleep(for: delay)
                delay = min(delay * 2, maximum)
            }
        }
        return outbox.count == 0 && shared.episodes.withLock { $0.isEmpty }
    }

    /// Sends HEARTBEAT every interval; a reply from a new learner run id triggers a new HELLO.
    func beat(connection: LearnerConnection, outbox: Outbox, interval: Duration) async {
        while !Task.isCancelled && !shared.isEnded {
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
                default:
                    break
                }
            } catch LearnerConnection.SessionError.runOver {
                shared.finish(.runOver)
            } catch LearnerConnection.SessionError.refused(let code, let text) {
                shared.finish(.failed(.refused(code: code, text: text)))
            } catch {
                continue
            }
        }
    }

    /// Pulls weights whenever the environment thread rings, into the mailbox it reads.
    func pullWeights(connection: LearnerConnection, requests: AsyncStream<Void>) async {
        for await _ in requests {
            if Task.isCancelled || shared.isEnded { break }
            let held = max(shared.heldVersion.load(ordering: .relaxed),
                           shared.mailbox.withLock { $0?.version ?? 0 })
            if let pulled = try? await connection.pullWeights(held: held) {
                shared.mailbox.withLock { $0 = (pulled.version, pulled.tensors) }
            }
            shared.pullInFlight.store(false, ordering: .relaxed)
        }
    }

    /// Writes the stats file every second and the progress line every progress interval.
    func report(outbox: Outbox, started: ContinuousClock.Instant) async {
        var lastProgress = ContinuousClock.now
        var lastSteps = 0
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let stats = snapshot(outbox: outbox, started: started)
            if let path = configuration.statsFile { try? stats.write(to: path) }
            let now = ContinuousClock.now
            if configuration.progressIntervalMs > 0 && now - lastProgress >= .milliseconds(configuration.progressIntervalMs) {
                let sps = Double(stats.envSteps - lastSteps) / max(1e-3, (now - lastProgress).secondsValue)
                var line = "actor \(configuration.actorID): steps \(stats.envSteps)" + String(format: " SPS %.0f", sps)
                    + " episodes \(stats.episodes) version \(stats.heldVersion) acked \(stats.batchesAcked)"
                    + " outbox \(stats.outboxBatches)"
                if let ret = stats.lastReturn { line += String(format: " return %.1f", ret) }
                if stats.tryLater > 0 { line += " try-later \(stats.tryLater)" }
                log(line)
                lastProgress = now
                lastSteps = stats.envSteps
            }
        }
    }

    func snapshot(outbox: Outbox?, started: ContinuousClock.Instant) -> ActorStats {
        shared.stats.withLock { stats in
            if let outbox { stats.outboxBatches = outbox.count }
            stats.elapsedSeconds = (ContinuousClock.now - started).secondsValue
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
