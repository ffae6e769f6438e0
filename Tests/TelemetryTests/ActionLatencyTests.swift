import Prometheus
import Testing
@testable import Telemetry

/// The ACTION_REQUEST latency histogram: scraped as a Prometheus histogram, read back as p50/p99.
struct ActionLatencyTests {
    // MARK: - Quantiles

    @Test func noQuantilesBeforeTheFirstRequest() {
        #expect(LearnerMetrics().actionRequestLatency() == nil)
    }

    @Test func quantilesInterpolateInsideTheirBucket() {
        let histogram = LatencyHistogram(bounds: [.milliseconds(1), .milliseconds(2), .milliseconds(4)])
        // 50 in (0, 1 ms], 40 in (1, 2 ms], 10 in (2, 4 ms].
        for _ in 0..<50 { histogram.record(.microseconds(500)) }
        for _ in 0..<40 { histogram.record(.microseconds(1500)) }
        for _ in 0..<10 { histogram.record(.milliseconds(3)) }
        let q = histogram.quantiles()
        #expect(q?.count == 100)
        // Rank 50 is the last of the first bucket: its upper bound.
        #expect(q?.p50 == .milliseconds(1))
        // Rank 99 is 9/10 of the way through (2, 4 ms].
        #expect(q?.p99 == .microseconds(3800))
    }

    @Test func boundsAreInclusiveUpperLimits() {
        let histogram = LatencyHistogram(bounds: [.milliseconds(1), .milliseconds(2)])
        histogram.record(.milliseconds(1))
        // One observation in (0, 1 ms]: rank 0.5 is half way.
        #expect(histogram.quantiles()?.p50 == .microseconds(500))
    }

    @Test func latencyAboveTheLastBucketReadsAsTheLastBound() {
        let metrics = LearnerMetrics()
        metrics.recordActionRequest(latency: .seconds(3))
        #expect(metrics.actionRequestLatency() == LatencyQuantiles(count: 1, p50: .seconds(1), p99: .seconds(1)))
    }

    @Test func typicalLatenciesAreEstimatedWithinTheirBucket() {
        let metrics = LearnerMetrics()
        // 98 fast requests around 180 µs, 2 slow ones at 12 ms.
        for _ in 0..<98 { metrics.recordActionRequest(latency: .microseconds(180)) }
        for _ in 0..<2 { metrics.recordActionRequest(latency: .milliseconds(12)) }
        let q = metrics.actionRequestLatency()
        #expect(q.map { $0.p50 > .microseconds(150) && $0.p50 <= .microseconds(200) } == true)
        #expect(q.map { $0.p99 > .milliseconds(10) && $0.p99 <= .milliseconds(15) } == true)
    }

    // MARK: - Scrape

    @Test func scrapeShowsCumulativeBucketsSumCountAndTimeouts() {
        let metrics = LearnerMetrics()
        metrics.recordActionRequest(latency: .microseconds(60))
        metrics.recordActionRequest(latency: .milliseconds(2))
        metrics.recordActionRequestTimeout()
        let text = metrics.registry.emitToString()
        #expect(text.contains("# TYPE meow_action_request_seconds histogram\n"))
        #expect(text.contains(#"meow_action_request_seconds_bucket{le="0.00005"} 0"#))
        #expect(text.contains(#"meow_action_request_seconds_bucket{le="0.000075"} 1"#))
        #expect(text.contains(#"meow_action_request_seconds_bucket{le="0.002"} 2"#))
        #expect(text.contains(#"meow_action_request_seconds_bucket{le="+Inf"} 2"#))
        #expect(text.contains("meow_action_request_seconds_count 2\n"))
        #expect(text.contains("meow_action_request_seconds_sum 0.00206\n"))
        #expect(text.contains("meow_action_request_timeouts_total 1\n"))
    }

    @Test func bucketsSpanFiftyMicrosecondsToOneSecondInOrder() {
        let buckets = LearnerMetrics.actionLatencyBuckets
        #expect(buckets.first == .microseconds(50) && buckets.last == .seconds(1))
        #expect(zip(buckets, buckets.dropFirst()).allSatisfy { $0 < $1 })
    }
}
