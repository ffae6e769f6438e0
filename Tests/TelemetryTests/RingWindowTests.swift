import Testing
import Telemetry

@Suite struct RingWindowTests {
    // MARK: - Quantiles

    @Test func nothingToSummarizeBeforeTheFirstSample() {
        let window = RingWindow<UInt64>(capacity: 4)
        #expect(window.summary == nil && window.quantile(0.5) == nil && window.count == 0)
    }

    @Test func quantilesAreNearestRank() {
        var window = RingWindow<UInt64>(capacity: 100)
        for value in UInt64(1) ... 4 { window.record(value) }
        // The smallest value with at least q of the window at or below it.
        #expect(window.quantile(0.25) == 1 && window.quantile(0.5) == 2 && window.quantile(0.51) == 3)
        #expect(window.quantile(0) == 1 && window.quantile(1) == 4)
        #expect(window.summary == WindowSummary(min: 1, mean: 2.5, p50: 2, p99: 4, max: 4))
    }

    @Test func aCountRecordsOneSamplePerItem() {
        var window = RingWindow<UInt64>(capacity: 100)
        window.record(0, count: 99)
        window.record(7)
        #expect(window.count == 100)
        #expect(window.summary == WindowSummary(min: 0, mean: 0.07, p50: 0, p99: 0, max: 7))
    }

    // MARK: - The ring

    @Test func theNewestSamplesReplaceTheOldest() {
        var window = RingWindow<UInt64>(capacity: 3)
        for value in UInt64(1) ... 5 { window.record(value) }
        #expect(window.count == 3)
        #expect(window.summary == WindowSummary(min: 3, mean: 4, p50: 4, p99: 5, max: 5))
        window.record(0, count: 2)
        #expect(window.summary?.max == 5 && window.summary?.min == 0 && window.count == 3)
    }

    @Test func durationsAreKeptInMilliseconds() {
        var window = RingWindow<Double>(capacity: 8)
        window.recordMilliseconds(of: .microseconds(1500))
        window.recordMilliseconds(of: .seconds(2))
        #expect(window.quantile(0.5) == 1.5 && window.quantile(0.99) == 2000)
        #expect(window.summary?.mean == 1000.75)
    }
}
