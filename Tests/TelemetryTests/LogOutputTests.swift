import Foundation
import Logging
import Synchronization
import Telemetry
import Testing

/// The shared line store behind a `Logger` made for one test.
final class CapturedLines: Sendable {
    let lines = Mutex<[(Logger.Level, String)]>([])

    func logger(level: Logger.Level = .trace) -> Logger {
        let store = self
        var logger = Logger(label: "test") { _ in ForwardingHandler(store: store) }
        logger.logLevel = level
        return logger
    }

    var texts: [String] { lines.withLock { $0.map(\.1) } }
    var levels: [Logger.Level] { lines.withLock { $0.map(\.0) } }
}

/// Forwards every event to a `CapturedLines`, so copies of a logger share one store.
struct ForwardingHandler: LogHandler {
    let store: CapturedLines
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.lines.withLock { $0.append((event.level, event.message.description)) }
    }
}

@Suite struct LogOutputTests {
    // MARK: - Line format

    @Test func lineHasTimestampLevelLabelMessageAndSortedMetadata() {
        let time = Date(timeIntervalSince1970: 1_796_644_800.123_9)  // 2026-12-07T12:00:00.123Z
        let line = LogLine.format(time: time, level: .warning, label: "meow.learner", message: "peer 3 silent",
                                  metadata: ["reason": "timeout", "actor": "3"])
        #expect(line == "2026-12-07T12:00:00.123Z warning meow.learner: peer 3 silent [actor=3 reason=timeout]")
        let plain = LogLine.format(time: time, level: .info, label: "meow", message: "hello")
        #expect(plain == "2026-12-07T12:00:00.123Z info meow: hello")
    }

    @Test func timestampIsUTCWithMilliseconds() {
        #expect(LogLine.timestamp(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(LogLine.timestamp(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
        #expect(LogLine.timestamp(Date(timeIntervalSince1970: 1_796_687_999.875)) == "2026-12-07T23:59:59.875Z")
    }

    @Test func levelsAreNamedAsTheFlagSpellsThem() {
        #expect(LogBootstrap.level(named: "DEBUG") == .debug)
        #expect(LogBootstrap.level(named: "warning") == .warning)
        #expect(LogBootstrap.level(named: "warn") == nil)
        #expect(LogBootstrap.levelNames == ["trace", "debug", "info", "notice", "warning", "error", "critical"])
    }

    // MARK: - Rate-limited logging

    @Test func rateLimitedLoggerLogsTheFirstThenOneLinePerBurstWithTheCount() {
        let captured = CapturedLines()
        let limited = RateLimitedLogger(captured.logger(), every: 3, interval: .seconds(3600))
        let t = ContinuousClock.now
        let written = (0..<7).map { _ in limited.warning("connect", "cannot reach the learner", now: t) }
        #expect(written == [true, false, false, true, false, false, true])
        #expect(captured.texts == [
            "cannot reach the learner",
            "cannot reach the learner (3 times since the last report)",
            "cannot reach the learner (3 times since the last report)",
        ])
        #expect(captured.levels == [.warning, .warning, .warning])
    }

    @Test func rateLimitedLoggerReleasesAfterTheInterval() {
        let captured = CapturedLines()
        let limited = RateLimitedLogger(captured.logger(), every: 1000, interval: .seconds(10))
        let t = ContinuousClock.now
        limited.error("unstable", "simulation diverged", now: t)
        limited.error("unstable", "simulation diverged", now: t + .seconds(1))
        limited.error("other", "a different failure", now: t + .seconds(2))
        limited.error("unstable", "simulation diverged", now: t + .seconds(10))
        #expect(captured.texts == [
            "simulation diverged", "a different failure", "simulation diverged (2 times since the last report)",
        ])
    }

    @Test func filteredLevelIsNeitherCountedNorBuilt() {
        let captured = CapturedLines()
        let limited = RateLimitedLogger(captured.logger(level: .error), every: 2, interval: .seconds(3600))
        let t = ContinuousClock.now
        var built = 0
        func message() -> String {
            built += 1
            return "noisy"
        }
        // Called outside #expect, which would evaluate the autoclosure to show its value.
        let debugWritten = limited.log(.debug, "k", message(), now: t)
        #expect(!debugWritten && built == 0 && captured.texts.isEmpty)
        let errorWritten = limited.log(.error, "k", message(), now: t)
        #expect(errorWritten && built == 1 && captured.texts == ["noisy"])
    }

    @Test func rateLimitedLoggerIsSharedAcrossThreads() async {
        let captured = CapturedLines()
        let limited = RateLimitedLogger(captured.logger(), every: 100, interval: .seconds(3600))
        let t = ContinuousClock.now
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask { for _ in 0..<100 { limited.warning("k", "x", now: t) } }
            }
        }
        // 400 occurrences: the first alone, then three lines of 100, and 99 held back.
        #expect(captured.texts == ["x"] + Array(repeating: "x (100 times since the last report)", count: 3))
    }
}
