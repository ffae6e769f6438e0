import Telemetry
import Testing

@Suite struct DurationSecondsTests {
    func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(1, abs(b)) }

    // MARK: - Seconds and milliseconds keep fractions

    @Test func secondsAndMillisecondsKeepTheFraction() {
        #expect(Duration.seconds(2).seconds == 2)
        #expect(close(Duration.milliseconds(1500).seconds, 1.5))
        #expect(close(Duration.milliseconds(1500).milliseconds, 1500))
        #expect(close(Duration.microseconds(250).milliseconds, 0.25))
        #expect(close(Duration.nanoseconds(1).seconds, 1e-9))
        #expect(Duration.zero.seconds == 0 && Duration.zero.milliseconds == 0)
    }

    @Test func negativeDurationsStayNegative() {
        #expect(close(Duration.milliseconds(-1500).seconds, -1.5))
        #expect(close(Duration.milliseconds(-1500).milliseconds, -1500))
    }
}
