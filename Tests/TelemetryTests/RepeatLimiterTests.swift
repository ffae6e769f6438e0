import Testing
import Telemetry

/// The first occurrence is logged, then one line per `every` occurrences or per interval.
@Suite struct RepeatLimiterTests {
    // MARK: - Counting

    @Test func firstOccurrenceIsLoggedThenEveryNth() {
        var limiter = RepeatLimiter(every: 3, interval: .seconds(3600))
        let t = ContinuousClock.now
        let logged = (0..<10).map { _ in limiter.record("connect", now: t) }
        // 1 at once; then lines standing for 3 occurrences each; the 10th is held back.
        #expect(logged == [1, nil, nil, 3, nil, nil, 3, nil, nil, 3])
        #expect(limiter.heldBack("connect") == 0)
        _ = limiter.record("connect", now: t)
        #expect(limiter.heldBack("connect") == 1)
    }

    @Test func keysAreIndependent() {
        var limiter = RepeatLimiter(every: 5, interval: .seconds(3600))
        let t = ContinuousClock.now
        #expect(limiter.record("a", now: t) == 1)
        #expect(limiter.record("b", now: t) == 1)
        #expect(limiter.record("a", now: t) == nil)
        #expect(limiter.heldBack("a") == 1 && limiter.heldBack("b") == 0)
    }

    // MARK: - Time

    @Test func intervalReleasesALineWithTheCount() {
        var limiter = RepeatLimiter(every: 1000, interval: .seconds(10))
        let t = ContinuousClock.now
        #expect(limiter.record("unstable", now: t) == 1)
        #expect(limiter.record("unstable", now: t + .seconds(1)) == nil)
        #expect(limiter.record("unstable", now: t + .seconds(2)) == nil)
        // Ten seconds after the last logged line, the next occurrence is logged for all three.
        #expect(limiter.record("unstable", now: t + .seconds(10)) == 3)
        #expect(limiter.record("unstable", now: t + .seconds(11)) == nil)
    }
}
