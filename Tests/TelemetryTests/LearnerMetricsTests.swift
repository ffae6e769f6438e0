import Prometheus
import Testing
@testable import Telemetry

struct LearnerMetricsTests {
    /// The sample lines of a scrape, keyed by `name{labels}`.
    private func samples(_ metrics: LearnerMetrics) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in metrics.registry.emitToString().split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            result[String(line[..<space])] = value
        }
        return result
    }

    // MARK: - Each method moves its metric

    @Test func countersAndGaugesReflectWhatWasRecorded() {
        let metrics = LearnerMetrics()
        metrics.recordEnvironmentSteps(5)
        metrics.recordUpdate()
        metrics.recordUpdate()
        metrics.recordSkippedUpdate()
        metrics.recordDroppedBatch(.duplicate)
        metrics.setActorsConnected(3)
        metrics.setStaleness(min: 0, mean: 1.5, p50: 1, p99: 3, max: 4)
        metrics.setReplay(size: 250, capacity: 1000)
        metrics.recordRateLimiterWait(.sample, seconds: 0.25)
        metrics.recordRateLimiterWait(.sample, seconds: 0.5)
        metrics.recordRateLimiterWait(.insert, seconds: 2)
        metrics.recordWeightsServed()
        metrics.recordProtocolError(code: "versionMismatch")
        metrics.setPolicyVersion(42)
        metrics.setEvalReturn(-123.5)

        let s = samples(metrics)
        #expect(s["meow_env_steps_total"] == 5)
        #expect(s["meow_updates_total"] == 2)
        #expect(s["meow_updates_skipped_total"] == 1)
        #expect(s[#"meow_batches_dropped_total{reason="duplicate"}"#] == 1)
        #expect(s[#"meow_batches_dropped_total{reason="stale"}"#] == 0)
        #expect(s["meow_actors_connected"] == 3)
        #expect(s["meow_ingest_staleness_min"] == 0)
        #expect(s["meow_ingest_staleness_mean"] == 1.5)
        #expect(s["meow_ingest_staleness_p50"] == 1)
        #expect(s["meow_ingest_staleness_p99"] == 3)
        #expect(s["meow_ingest_staleness_max"] == 4)
        #expect(s["meow_replay_size"] == 250 && s["meow_replay_capacity"] == 1000)
        #expect(s["meow_replay_fill_ratio"] == 0.25)
        #expect(s[#"meow_ratelimiter_waits_total{side="sample"}"#] == 2)
        #expect(s[#"meow_ratelimiter_wait_seconds_total{side="sample"}"#] == 0.75)
        #expect(s[#"meow_ratelimiter_waits_total{side="insert"}"#] == 1)
        #expect(s[#"meow_ratelimiter_wait_seconds_total{side="insert"}"#] == 2)
        #expect(s["meow_weights_served_total"] == 1)
        #expect(s[#"meow_protocol_errors_total{code="versionMismatch"}"#] == 1)
        #expect(s["meow_policy_version"] == 42)
        #expect(s["meow_eval_return"] == -123.5)
    }

    @Test func everyFamilyHasHelpAndType() {
        let text = LearnerMetrics().registry.emitToString()
        let labelledByPeers: Set = ["meow_transitions_ingested_total", "meow_protocol_errors_total",
                                    "meow_transitions_dropped_total"]
        for family in LearnerMetrics.families where !labelledByPeers.contains(family.name) {
            // Families with open-ended labels appear once a value exists; the rest from the start.
            #expect(text.contains("# HELP \(family.name) \(family.help)\n"), "\(family.name)")
            #expect(text.contains("# TYPE \(family.name) \(family.type)\n"), "\(family.name)")
        }
    }

    @Test func twoFacadesOnOneRegistryShareMetrics() {
        let registry = PrometheusCollectorRegistry()
        LearnerMetrics(registry: registry).recordUpdate()
        let second = LearnerMetrics(registry: registry)
        second.recordUpdate()
        #expect(samples(second)["meow_updates_total"] == 2)
    }

    // MARK: - Peer-supplied labels stay bounded and well formed

    @Test func actorLabelsAreCappedIntoOther() {
        let metrics = LearnerMetrics(maxLabelValues: 3)
        for actor in 0..<10 { metrics.recordTransitionsIngested(1, actor: "a\(actor)") }
        metrics.recordTransitionsIngested(5, actor: "a0")
        let series = samples(metrics).filter { $0.key.hasPrefix("meow_transitions_ingested_total") }
        #expect(series.count == 4)
        #expect(series[#"meow_transitions_ingested_total{actor="a0"}"#] == 6)
        #expect(series[#"meow_transitions_ingested_total{actor="other"}"#] == 7)
        #expect(series.values.reduce(0, +) == 15)
    }

    @Test func labelValuesCannotBreakTheFormat() {
        #expect(BoundedLabelCounters.sanitized("actor-7.eu:1_x") == "actor-7.eu:1_x")
        #expect(BoundedLabelCounters.sanitized("a\"}\nb 1\\") == "a___b_1_")
        #expect(BoundedLabelCounters.sanitized("") == "unknown")
        #expect(BoundedLabelCounters.sanitized("é") == "_")
        #expect(BoundedLabelCounters.sanitized(String(repeating: "z", count: 100)).count == 64)
        let metrics = LearnerMetrics()
        metrics.recordProtocolError(code: "bad\"code\n")
        #expect(samples(metrics)[#"meow_protocol_errors_total{code="bad_code_"}"#] == 1)
    }
}
