import Prometheus
import Synchronization

/// The learner's Prometheus metrics, typed: one method per thing that happens.
///
/// Counters only go up (Prometheus derives rates from them); gauges hold the
/// latest value. Updates are atomic operations on metrics created up front
/// (per-actor and per-code series are first found by a dictionary lookup
/// under a short lock), so the training loop never waits on a scrape. Names and
/// meanings are listed in docs/metrics.md; a test keeps the two in step.
///
/// Label values that come from peers (actor ids, error codes) are bounded:
/// after `maxLabelValues` distinct values, further ones are counted under
/// `other`, so a misbehaving fleet cannot grow the scrape without limit.
public final class LearnerMetrics: Sendable {
    /// Why an ingested batch was thrown away.
    public enum DropReason: String, Sendable, CaseIterable {
        /// The same (actor, sequence number) arrived twice (a REQ resend).
        case duplicate
        /// The batch was collected by a policy too many versions old.
        case stale
    }

    /// Which side of the replay rate limiter waited.
    public enum RateLimiterSide: String, Sendable, CaseIterable {
        /// Actors' inserts waited for the learner to sample.
        case insert
        /// The learner's samples waited for more inserts.
        case sample
    }

    /// Every family's name, type and help text, in the order of docs/metrics.md.
    public static let families: [(name: String, type: String, help: String)] = [
        ("meow_env_steps_total", "counter", "Environment steps ingested into replay."),
        ("meow_updates_total", "counter", "Gradient updates applied."),
        ("meow_updates_skipped_total", "counter", "Updates skipped because the loss or a gradient was not finite."),
        ("meow_transitions_ingested_total", "counter", "Transitions accepted into replay, by actor."),
        ("meow_batches_dropped_total", "counter", "Transition batches dropped, by reason (duplicate, stale)."),
        ("meow_actors_connected", "gauge", "Actors currently connected."),
        ("meow_ingest_staleness_min", "gauge", "Smallest policy-version lag of recently ingested transitions."),
        ("meow_ingest_staleness_mean", "gauge", "Mean policy-version lag of recently ingested transitions."),
        ("meow_ingest_staleness_p50", "gauge", "Median policy-version lag of recently ingested transitions."),
        ("meow_ingest_staleness_p99", "gauge", "99th percentile policy-version lag of recently ingested transitions."),
        ("meow_ingest_staleness_max", "gauge", "Largest policy-version lag of recently ingested transitions."),
        ("meow_replay_size", "gauge", "Transitions held in the replay buffer."),
        ("meow_replay_capacity", "gauge", "Transitions the replay buffer can hold."),
        ("meow_replay_fill_ratio", "gauge", "Replay size divided by capacity."),
        ("meow_ratelimiter_waits_total", "counter", "Times the replay rate limiter made a side wait, by side."),
        ("meow_ratelimiter_wait_seconds_total", "counter", "Seconds spent waiting on the replay rate limiter, by side."),
        ("meow_weights_served_total", "counter", "Policy weight snapshots sent to actors."),
        ("meow_protocol_errors_total", "counter", "Malformed or refused protocol messages, by error code."),
        ("meow_policy_version", "gauge", "Version of the newest published policy weights."),
        ("meow_eval_return", "gauge", "Mean return of the latest deterministic evaluation."),
        ("meow_action_request_seconds", "histogram", "Seconds from receiving an ACTION_REQUEST to sending its reply."),
        ("meow_action_request_timeouts_total", "counter", "ACTION_REQUESTs not answered within the per-request timeout."),
        ("meow_wal_bytes", "gauge", "Bytes of write-ahead log segments on disk."),
        ("meow_wal_records_total", "counter", "Records made durable in the write-ahead log."),
        ("meow_wal_syncs_total", "counter", "fdatasync calls of the write-ahead log; records per sync is the group-commit factor."),
        ("meow_wal_failures_total", "counter", "Write-ahead log writes or syncs that failed; their batches were not acknowledged."),
        ("meow_transitions_dropped_total", "counter", "Acknowledged transitions that never reached replay, by reason."),
    ]

    /// Upper bounds of the ACTION_REQUEST latency buckets, 50 µs to 1 s.
    ///
    /// Roughly three per decade (1, 1.5, 2, 3, 5, 7.5): a loopback round trip is ~100 µs and one
    /// batched act call ~1 ms, so the interesting range is dense enough that a p50 or p99 read by
    /// interpolation is off by at most half a bucket.
    public static let actionLatencyBuckets: [Duration] = [
        .microseconds(50), .microseconds(75), .microseconds(100), .microseconds(150), .microseconds(200),
        .microseconds(300), .microseconds(500), .microseconds(750), .milliseconds(1), .microseconds(1500),
        .milliseconds(2), .milliseconds(3), .milliseconds(5), .microseconds(7500), .milliseconds(10),
        .milliseconds(15), .milliseconds(20), .milliseconds(30), .milliseconds(50), .milliseconds(75),
        .milliseconds(100), .milliseconds(150), .milliseconds(200), .milliseconds(300), .milliseconds(500),
        .milliseconds(750), .seconds(1),
    ]

    /// The registry scraped at /metrics.
    public let registry: PrometheusCollectorRegistry
    /// The most distinct values kept per peer-supplied label.
    public let maxLabelValues: Int

    private let envSteps: Counter
    private let updates: Counter
    private let skippedUpdates: Counter
    private let droppedBatches: [DropReason: Counter]
    private let actorsConnected: Gauge
    private let stalenessMin: Gauge
    private let stalenessMean: Gauge
    private let stalenessP50: Gauge
    private let stalenessP99: Gauge
    private let stalenessMax: Gauge
    private let replaySize: Gauge
    private let replayCapacity: Gauge
    private let replayFill: Gauge
    private let rateLimiterWaits: [RateLimiterSide: Counter]
    private let rateLimiterSeconds: [RateLimiterSide: Counter]
    private let weightsServed: Counter
    private let policyVersion: Gauge
    private let evalReturn: Gauge
    private let actionLatency: DurationHistogram
    private let actionLatencyCounts: LatencyHistogram
    private let actionTimeouts: Counter
    private let transitionsByActor: BoundedLabelCounters
    private let protocolErrorsByCode: BoundedLabelCounters
    private let walBytes: Gauge
    private let walRecords: Counter
    private let walSyncs: Counter
    private let walFailures: Counter
    private let transitionsDropped: BoundedLabelCounters

    /// Registers every metric in `registry` (a fresh one by default, so tests need no global state).
    public init(registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(), maxLabelValues: Int = 64) {
        self.registry = registry
        self.maxLabelValues = maxLabelValues
        let help = Dictionary(uniqueKeysWithValues: Self.families.map { ($0.name, $0.help) })
        func counter(_ name: String, _ labels: [(String, String)] = []) -> Counter {
            registry.makeCounter(descriptor: descriptor(name, help[name]!), labels: labels)
        }
        func gauge(_ name: String) -> Gauge {
            registry.makeGauge(descriptor: descriptor(name, help[name]!), labels: [])
        }
        envSteps = counter("meow_env_steps_total")
        updates = counter("meow_updates_total")
        skippedUpdates = counter("meow_updates_skipped_total")
        droppedBatches = Dictionary(uniqueKeysWithValues: DropReason.allCases.map {
            ($0, counter("meow_batches_dropped_total", [("reason", $0.rawValue)]))
        })
        actorsConnected = gauge("meow_actors_connected")
        stalenessMin = gauge("meow_ingest_staleness_min")
        stalenessMean = gauge("meow_ingest_staleness_mean")
        stalenessP50 = gauge("meow_ingest_staleness_p50")
        stalenessP99 = gauge("meow_ingest_staleness_p99")
        stalenessMax = gauge("meow_ingest_staleness_max")
        replaySize = gauge("meow_replay_size")
        replayCapacity = gauge("meow_replay_capacity")
        replayFill = gauge("meow_replay_fill_ratio")
        rateLimiterWaits = Dictionary(uniqueKeysWithValues: RateLimiterSide.allCases.map {
            ($0, counter("meow_ratelimiter_waits_total", [("side", $0.rawValue)]))
        })
        rateLimiterSeconds = Dictionary(uniqueKeysWithValues: RateLimiterSide.allCases.map {
            ($0, counter("meow_ratelimiter_wait_seconds_total", [("side", $0.rawValue)]))
        })
        weightsServed = counter("meow_weights_served_total")
        policyVersion = gauge("meow_policy_version")
        evalReturn = gauge("meow_eval_return")
        actionLatency = registry.makeDurationHistogram(
            descriptor: descriptor("meow_action_request_seconds", help["meow_action_request_seconds"]!),
            buckets: Self.actionLatencyBuckets)
        actionLatencyCounts = LatencyHistogram(bounds: Self.actionLatencyBuckets)
        actionTimeouts = counter("meow_action_request_timeouts_total")
        transitionsByActor = BoundedLabelCounters(
            registry: registry, name: "meow_transitions_ingested_total", label: "actor",
            help: help["meow_transitions_ingested_total"]!, limit: maxLabelValues)
        protocolErrorsByCode = BoundedLabelCounters(
            registry: registry, name: "meow_protocol_errors_total", label: "code",
            help: help["meow_protocol_errors_total"]!, limit: maxLabelValues)
        walBytes = gauge("meow_wal_bytes")
        walRecords = counter("meow_wal_records_total")
        walSyncs = counter("meow_wal_syncs_total")
        walFailures = counter("meow_wal_failures_total")
        transitionsDropped = BoundedLabelCounters(
            registry: registry, name: "meow_transitions_dropped_total", label: "reason",
            help: help["meow_transitions_dropped_total"]!, limit: maxLabelValues)
    }

    // MARK: - Ingest

    /// `count` environment steps went into replay.
    public func recordEnvironmentSteps(_ count: Int) {
        envSteps.increment(by: Int64(count))
    }

    /// `count` transitions from `actor` were accepted into replay.
    public func recordTransitionsIngested(_ count: Int, actor: String) {
        transitionsByActor.increment(label: actor, by: count)
    }

    /// A batch was thrown away instead of ingested.
    public func recordDroppedBatch(_ reason: DropReason) {
        droppedBatches[reason]!.increment()
    }

    /// Policy-version lag of the batches ingested since the last call.
    public func setStaleness(min: Double, mean: Double, p50: Double, p99: Double, max: Double) {
        stalenessMin.set(min)
        stalenessMean.set(mean)
        stalenessP50.set(p50)
        stalenessP99.set(p99)
        stalenessMax.set(max)
    }

    public func setActorsConnected(_ count: Int) {
        actorsConnected.set(Double(count))
    }

    // MARK: - Replay

    public func setReplay(size: Int, capacity: Int) {
        replaySize.set(Double(size))
        replayCapacity.set(Double(capacity))
        replayFill.set(capacity > 0 ? Double(size) / Double(capacity) : 0)
    }

    /// The rate limiter made `side` wait for `seconds`.
    public func recordRateLimiterWait(_ side: RateLimiterSide, seconds: Double) {
        rateLimiterWaits[side]!.increment()
        rateLimiterSeconds[side]!.increment(by: seconds)
    }

    // MARK: - Updates and weights

    public func recordUpdate() {
        updates.increment()
    }

    /// An update was skipped because something was not finite.
    public func recordSkippedUpdate() {
        skippedUpdates.increment()
    }

    public func recordWeightsServed() {
        weightsServed.increment()
    }

    public func setPolicyVersion(_ version: Int) {
        policyVersion.set(Double(version))
    }

    public func setEvalReturn(_ value: Double) {
        evalReturn.set(value)
    }

    // MARK: - Remote inference

    /// One ACTION_REQUEST was answered `latency` after it arrived.
    public func recordActionRequest(latency: Duration) {
        actionLatency.record(latency)
        actionLatencyCounts.record(latency)
    }

    /// An ACTION_REQUEST was not answered within the per-request timeout.
    public func recordActionRequestTimeout() {
        actionTimeouts.increment()
    }

    /// p50 and p99 of the ACTION_REQUEST latencies recorded through this object, nil before the first.
    ///
    /// Estimated from the buckets as Prometheus's `histogram_quantile` does, so progress lines and
    /// dashboards agree; a quantile above the last bucket reads as 1 s.
    public func actionRequestLatency() -> LatencyQuantiles? {
        actionLatencyCounts.quantiles()
    }

    // MARK: - Write-ahead log

    /// The log's segments hold `bytes` now.
    public func setWriteAheadLogBytes(_ bytes: Int) {
        walBytes.set(Double(bytes))
    }

    /// `records` more records became durable with `syncs` more fdatasync calls; `failures` groups failed.
    public func recordWriteAheadLog(records: Int, syncs: Int, failures: Int) {
        if records > 0 { walRecords.increment(by: Int64(records)) }
        if syncs > 0 { walSyncs.increment(by: Int64(syncs)) }
        if failures > 0 { walFailures.increment(by: Int64(failures)) }
    }

    /// `count` acknowledged transitions never reached replay, for `reason`.
    public func recordTransitionsDropped(_ count: Int, reason: String) {
        transitionsDropped.increment(label: reason, by: count)
    }

    // MARK: - Protocol

    /// A peer sent something refused with `code` (a wire error code's name).
    public func recordProtocolError(code: String) {
        protocolErrorsByCode.increment(label: code, by: 1)
    }
}

/// Latency quantiles read from a bucketed histogram.
public struct LatencyQuantiles: Sendable, Equatable {
    /// Observations recorded.
    public var count: Int
    public var p50: Duration
    public var p99: Duration

    public init(count: Int, p50: Duration, p99: Duration) {
        self.count = count
        self.p50 = p50
        self.p99 = p99
    }
}

/// Fixed-bucket latency counts that can be read back, which swift-prometheus's histogram cannot.
///
/// One short lock per observation: cheaper than the act call it measures by three orders of magnitude.
final class LatencyHistogram: Sendable {
    /// Ascending upper bounds; one more count than bounds holds what lies above the last.
    let bounds: [Duration]
    private let counts: Mutex<[Int]>

    init(bounds: [Duration]) {
        precondition(!bounds.isEmpty && zip(bounds, bounds.dropFirst()).allSatisfy { $0 < $1 },
                     "bucket bounds must be ascending")
        self.bounds = bounds
        counts = Mutex(Array(repeating: 0, count: bounds.count + 1))
    }

    func record(_ value: Duration) {
        // Bounds are inclusive upper limits (Prometheus `le`).
        var low = 0
        var high = bounds.count
        while low < high {
            let middle = (low + high) / 2
            if bounds[middle] >= value { high = middle } else { low = middle + 1 }
        }
        counts.withLock { $0[low] += 1 }
    }

    /// Both quantiles from one consistent snapshot.
    func quantiles() -> LatencyQuantiles? {
        let snapshot = counts.withLock { $0 }
        let total = snapshot.reduce(0, +)
        guard total > 0 else { return nil }
        return LatencyQuantiles(count: total, p50: quantile(0.5, snapshot, total), p99: quantile(0.99, snapshot, total))
    }

    /// Linear interpolation inside the bucket holding rank `q * total`, the first bucket from 0.
    private func quantile(_ q: Double, _ snapshot: [Int], _ total: Int) -> Duration {
        let rank = q * Double(total)
        var below = 0
        for (index, count) in snapshot.enumerated() where count > 0 {
            if Double(below + count) >= rank {
                guard index < bounds.count else { return bounds[bounds.count - 1] }
                let lower = index == 0 ? Duration.zero : bounds[index - 1]
                let fraction = max(0, rank - Double(below)) / Double(count)
                return lower + (bounds[index] - lower) * fraction
            }
            below += count
        }
        return bounds[bounds.count - 1]
    }
}

/// Counters of one family keyed by a label whose values come from outside.
///
/// Values are sanitised (so a quote or newline cannot break the exposition
/// format) and capped: past `limit` distinct values, increments go to `other`.
final class BoundedLabelCounters: Sendable {
    static let overflowValue = "other"

    private let registry: PrometheusCollectorRegistry
    private let name: String
    private let label: String
    private let help: String
    private let limit: Int
    private let counters = Mutex<[String: Counter]>([:])

    init(registry: PrometheusCollectorRegistry, name: String, label: String, help: String, limit: Int) {
        self.registry = registry
        self.name = name
        self.label = label
        self.help = help
        self.limit = limit
    }

    func increment(label value: String, by count: Int) {
        let key = Self.sanitized(value)
        let counter = counters.withLock { counters -> Counter in
            if let existing = counters[key] { return existing }
            let chosen = counters.count < limit ? key : Self.overflowValue
            if let existing = counters[chosen] { return existing }
            let made = registry.makeCounter(descriptor: descriptor(name, help), labels: [(label, chosen)])
            counters[chosen] = made
            return made
        }
        counter.increment(by: Int64(count))
    }

    /// Letters, digits and `_.:-` kept, anything else replaced by `_`, at most 64 characters; empty becomes `unknown`.
    static func sanitized(_ value: String) -> String {
        let kept = value.unicodeScalars.prefix(64).map { scalar -> Character in
            let allowed = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar)
                || "_.:-".unicodeScalars.contains(scalar))
            return allowed ? Character(scalar) : "_"
        }
        return kept.isEmpty ? "unknown" : String(kept)
    }
}

/// A descriptor for a full metric name (ours carry their unit suffix already).
func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
}
