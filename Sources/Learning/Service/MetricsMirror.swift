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
            metrics.setStaleness(min: Double(staleness.min), mean: staleness.mean, max: Double(staleness.max))
        }
        if let evaluation { metrics.setEvalReturn(evaluation) }
        last = stats
        lastChunksServed = chunksServed
    }
}
