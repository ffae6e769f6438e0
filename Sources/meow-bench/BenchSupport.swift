import Foundation
import Telemetry

/// Timing and formatting helpers shared by the network benchmarks.
enum BenchSupport {
    /// The value at `fraction` (0...1) of an ascending array; nearest-rank, no interpolation.
    static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.down)))]
    }

    static func microseconds(_ duration: Duration) -> Double { duration.seconds * 1e6 }

    /// One decimal, no locale.
    static func fixed(_ value: Double, digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

    /// Right-aligns `text` in `width` columns.
    static func pad(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    /// "64 B", "4 KiB", "1.9 MiB".
    static func sizeLabel(_ size: Int) -> String {
        if size >= 1 << 20 { return fixed(Double(size) / Double(1 << 20)) + " MiB" }
        if size >= 1 << 10 { return "\(size >> 10) KiB" }
        return "\(size) B"
    }
}
