import Foundation
import Logging
import Telemetry

/// Where and how often the trainer prints its progress line.
public enum ProgressMode: Sendable, Equatable {
    /// No progress output (tests, benchmarks).
    case off
    /// Rewrite one stderr line in place when stderr is a terminal, else log a line every 10 s.
    case automatic
    /// Log a line at this interval, terminal or not.
    case lines(every: Duration)
}

/// What the progress line shows; built only when a line is due.
struct ProgressSnapshot {
    var step: Int
    var totalSteps: Int
    var stepsPerSecond: Double
    var lastEpisodicReturn: Double?
    var lastEvaluationReturn: Double?
    var lastLoss: Float?
    /// Seconds left, from `RemainingTime`; nil shows no ETA.
    var secondsLeft: Double?

    /// E.g. `step 12000/20000 (60%) | 812 SPS | return -145.2 | eval -150.3 | loss 1.234 | ETA 0:09`.
    var line: String {
        let percent = totalSteps > 0 ? 100 * step / totalSteps : 100
        var parts = ["step \(step)/\(totalSteps) (\(percent)%)", "\(Int(stepsPerSecond.rounded())) SPS"]
        parts.append("return " + (lastEpisodicReturn.map { Self.format($0, decimals: 1) } ?? "-"))
        parts.append("eval " + (lastEvaluationReturn.map { Self.format($0, decimals: 1) } ?? "-"))
        parts.append("loss " + (lastLoss.map { Self.format(Double($0), decimals: 3) } ?? "-"))
        if let secondsLeft { parts.append("ETA " + Self.duration(secondsLeft)) }
        return parts.joined(separator: " | ")
    }

    static func format(_ value: Double, decimals: Int) -> String {
        String(format: "%.\(decimals)f", value)
    }

    /// h:mm:ss, or m:ss under an hour.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite else { return "-" }
        let total = Int(seconds.rounded())
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        let mmss = String(format: "%d:%02d", m, s)
        return h > 0 ? "\(h):" + String(format: "%02d:%02d", m, s) : mmss
    }
}

/// The time a run has left, from the pace of the steps that update.
///
/// The random warm-up steps (`learning-starts`, docs/algorithm.md §5.1) only act and store;
/// once updates begin every step also runs its gradient steps and takes many times longer.
/// A rate averaged over both would promise an end far too early, so the estimate counts
/// only steps taken since the updates began, and gives none before. A plain value with the
/// clock passed in.
struct RemainingTime {
    /// Steps after this index update (the warm-up's end, later after a resume that refills replay).
    let updatesAfterStep: Int
    private var origin: (step: Int, at: ContinuousClock.Instant)?

    init(updatesAfterStep: Int) {
        self.updatesAfterStep = updatesAfterStep
    }

    /// Notes that `step` steps are done at `now`; the first one past the warm-up starts the clock.
    mutating func observe(step: Int, at now: ContinuousClock.Instant) {
        if origin == nil && step > updatesAfterStep { origin = (step, now) }
    }

    /// Seconds until `totalSteps` at the updating pace; nil until that pace has been measured.
    func secondsLeft(step: Int, totalSteps: Int, at now: ContinuousClock.Instant) -> Double? {
        guard let origin, step > origin.step else { return nil }
        let seconds = (now - origin.at).seconds
        guard seconds > 0 else { return nil }
        return Double(max(0, totalSteps - step)) * seconds / Double(step - origin.step)
    }
}

/// Shows the progress line when it is due; costs one comparison otherwise.
///
/// On a terminal the line is a display, not a log: it is rewritten in place on stderr, without a
/// timestamp. Anywhere else (a file, a pipe, a container's log) each line is an info message of
/// the `meow.train` logger, so it carries a timestamp like every other line.
final class ProgressReporter {
    private let inPlace: Bool
    private let interval: Duration
    private var nextDue: ContinuousClock.Instant
    private let enabled: Bool
    private var wroteInPlace = false
    private let logger = Logger(label: "meow.train")

    init(mode: ProgressMode, start: ContinuousClock.Instant) {
        switch mode {
        case .off:
            (enabled, inPlace, interval) = (false, false, .seconds(1))
        case .automatic:
            let terminal = isatty(STDERR_FILENO) == 1
            (enabled, inPlace, interval) = (true, terminal, terminal ? .milliseconds(250) : .seconds(10))
        case let .lines(every):
            (enabled, inPlace, interval) = (true, false, every)
        }
        nextDue = start + interval
    }

    func isDue(_ now: ContinuousClock.Instant) -> Bool {
        enabled && now >= nextDue
    }

    func report(_ snapshot: ProgressSnapshot, now: ContinuousClock.Instant) {
        nextDue = now + interval
        if inPlace {
            // \u{1B}[K clears what a longer previous line left on the right.
            Self.write("\r" + snapshot.line + "\u{1B}[K")
            wroteInPlace = true
        } else {
            logger.info("\(snapshot.line)")
        }
    }

    /// Ends the in-place line so later output starts on a fresh line.
    func finish() {
        if wroteInPlace { Self.write("\n") }
        wroteInPlace = false
    }

    private static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}
