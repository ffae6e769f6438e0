import Telemetry

/// Copies the learner's counters into the Prometheus facade (`/metrics`).
///
/// The ledger already counts everything under its lock; rather than touch a second set
/// of counters on every request, the service hands a stats snapshot to this mirror on
/// each housekeeping tick, and it adds what changed since the last one.
final class MetricsMirror {
    private let metrics: LearnerMetrics
    private let replayCapacity: Int
    private var last: LearnerStats?
    private var lastChunksServed = 0

    init(metrics: LearnerMetrics, replayCapacity: Int) {
        self.metrics = metrics
        self.replayCapacity = replayCapacity
    }

    func update(_ stats: LearnerStats, chunksServed: Int, evaluation: Double?) {
        let previous = last
        metrics.recordEnvironmentSteps(stats.envSteps - (previous?.envSteps ?? 0))
        for (id, actor) in stats.actors.sorted(by: { $0.key < $1.key }) {
            let delta = actor.transitions - (previous?.actors[id]?.transitions ?? 0)
            if delta > 0 { metrics.recordTransitionsIngested(delta, actor: id) }
        }
        for _ in 0 ..< max(0, stats.duplicates - (previous?.duplicates ?? 0)) { metrics.recordDroppedBatch(.duplicate) }
        for _ in 0 ..< max(0, stats.staleDropped - (previous?.staleDropped ?? 0)) { metrics.recordDroppedBatch(.stale) }
        let skipped = stats.skippedUpdates - (previous?.skippedUpdates ?? 0)
        for _ in 0 ..< max(0, stats.updates - (previous?.updates ?? 0) - skipped) { metrics.recordUpdate() }
        for _ in 0 ..< max(0, skipped) { metrics.recordSkippedUpdate() }
        for _ in 0 ..< max(0, chunksServed - lastChunksServed) { metrics.recordWeightsServed() }
        let insertWait = stats.insertBlockedSeconds - (previous?.insertBlockedSeconds ?? 0)
        if insertWait > 0 { metrics.recordRateLimiterWait(.insert, seconds: insertWait) }
        let sampleWait = stats.sampleBlockedSeconds - (previous?.sampleBlockedSeconds ?? 0)
        if sampleWait > 0 { metrics.recordRateLimiterWait(.sample, seconds: sampleWait) }
        metrics.setActorsConnected(stats.liveActors)
        metrics.setReplay(size: stats.replaySize, capacity: replayCapacity)
        metrics.setPolicyVersion(Int(stats.policyVersion))
        if let staleness = stats.staleness {
            metrics.setStaleness(min: Double(staleness.min), mean: staleness.mean, p50: Double(staleness.p50),
                                 p99: Double(staleness.p99), max: Double(staleness.max))
        }
        if let evaluation { metrics.setEvalReturn(evaluation) }
        if let log = stats.writeAheadLog {
            let before = previous?.writeAheadLog
            metrics.setWriteAheadLogBytes(log.bytesOnDisk)
            metrics.recordWriteAheadLog(records: log.records - (before?.records ?? 0),
                                        syncs: log.syncs - (before?.syncs ?? 0),
                                        failures: log.failures - (before?.failures ?? 0))
        }
        for (reason, count) in stats.droppedTransitions.sorted(by: { $0.key < $1.key }) {
            let delta = count - (previous?.droppedTransitions[reason] ?? 0)
            if delta > 0 { metrics.recordTransitionsDropped(delta, reason: reason) }
        }
        last = stats
        lastChunksServed = chunksServed
    }
}

/// The distributed-health scalars the learner writes to metrics.csv and TensorBoard every few seconds.
///
/// The same readings the Prometheus mirror serves, as curves beside the losses, so a run's
/// TensorBoard shows whether actors kept up, how stale their data was, and whether the
/// rate limiter held the learner back (docs/metrics.md, "Distributed health").
struct HealthScalars {
    /// What the ledger says at one moment, taken under its lock.
    struct Reading {
        var steps: Int
        var staleness: StalenessSummary?
        var droppedStale: Int
        var sampleBlockedSeconds: Double
        var replaySize: Int
        var actors: Int

        init(_ ledger: IngestLedger) {
            steps = ledger.acceptedTransitions
            staleness = ledger.staleness.summary
            droppedStale = ledger.staleDrops
            sampleBlockedSeconds = ledger.limiter.sampleWait.seconds
            replaySize = ledger.replaySize
            actors = ledger.liveActors
        }
    }

    /// The session's start, and its env-step count then (for `charts/SPS`).
    let start: ContinuousClock.Instant
    let firstSteps: Int
    private var last: (steps: Int, at: ContinuousClock.Instant)

    init(start: ContinuousClock.Instant, steps: Int) {
        self.start = start
        firstSteps = steps
        last = (steps, start)
    }

    /// Logs one row of every health scalar at the current env step.
    mutating func log(to logger: some ScalarLogger, ledger reading: Reading, skippedUpdates: Int,
                      weightsVersion: UInt64?, now: ContinuousClock.Instant = .now) {
        let step = reading.steps
        let seconds = max(1e-3, (now - last.at).seconds)
        logger.log(tag: MetricName.ingestTransitionsPerSecond, value: Double(step - last.steps) / seconds, step: step)
        if let staleness = reading.staleness {
            logger.log(tag: MetricName.ingestStalenessMin, value: Double(staleness.min), step: step)
            logger.log(tag: MetricName.ingestStalenessMean, value: staleness.mean, step: step)
            logger.log(tag: MetricName.ingestStalenessP50, value: Double(staleness.p50), step: step)
            logger.log(tag: MetricName.ingestStalenessP99, value: Double(staleness.p99), step: step)
            logger.log(tag: MetricName.ingestStalenessMax, value: Double(staleness.max), step: step)
        }
        logger.log(tag: MetricName.ingestDroppedStale, value: Double(reading.droppedStale), step: step)
        logger.log(tag: MetricName.rateLimiterBlockedSeconds, value: reading.sampleBlockedSeconds, step: step)
        logger.log(tag: MetricName.lossesSkippedNonFinite, value: Double(skippedUpdates), step: step)
        logger.log(tag: MetricName.replaySize, value: Double(reading.replaySize), step: step)
        logger.log(tag: MetricName.actorsConnected, value: Double(reading.actors), step: step)
        if let weightsVersion { logger.log(tag: MetricName.weightsVersion, value: Double(weightsVersion), step: step) }
        last = (step, now)
    }
}
