import Foundation

/// Where and how often the trainer prints its progress line.
public enum ProgressMode: Sendable, Equatable {
    /// No progress output (tests, benchmarks).
    case off
    /// Rewrite one stderr line in place when stderr is a terminal, else print a line every 10 s.
    case automatic
    /// Print a new stderr line at this interval, terminal or not.
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

    /// E.g. `step 12000/20000 (60%) | 812 SPS | return -145.2 | eval -150.3 | loss 1.234 | ETA 0:09`.
    var line: String {
        let percent = totalSteps > 0 ? 100 * step / totalSteps : 100
        var parts = ["step \(step)/\(totalSteps) (\(percent)%)", "\(Int(stepsPerSecond.rounded())) SPS"]
        parts.append("return " + (lastEpisodicReturn.map { Self.format($0, decimals: 1) } ?? "-"))
        parts.append("eval " + (lastEvaluationReturn.map { Self.format($0, decimals: 1) } ?? "-"))
        parts.append("loss " + (lastLoss.map { Self.format(Double($0), decimals: 3) } ?? "-"))
        if stepsPerSecond > 0 {
            parts.append("ETA " + Self.duration(Double(totalSteps - step) / stepsPerSecond))
        }
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

/// Prints the progress line to stderr when it is due; costs one comparison otherwise.
final class ProgressReporter {
    private let inPlace: Bool
    private let interval: Duration
    private var nextDue: ContinuousClock.Instant
    private let enabled: Bool
    private var wroteInPlace = false

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
            Self.write(snapshot.line + "\n")
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
