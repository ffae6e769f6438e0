/// The last `capacity` samples of a measurement, for its min, mean and percentiles over a recent window.
///
/// The newest sample overwrites the oldest, so memory stays fixed however long the run. Reading a
/// percentile sorts a copy: read it once per stats interval, not once per sample. The learner keeps
/// its ingest staleness here (docs/metrics.md, "Staleness") and the simulator server its request
/// latencies.
public struct RingWindow<Value: Comparable & Sendable>: Sendable, Equatable {
    private var values: [Value] = []
    /// Where the next sample goes once the window is full: the oldest one.
    private var next = 0
    public let capacity: Int

    public init(capacity: Int) {
        precondition(capacity >= 1, "a ring window holds at least one sample")
        self.capacity = capacity
    }

    /// Samples held now: every sample so far, up to `capacity`.
    public var count: Int { values.count }

    /// Records `value`, `count` times (one sample per transition of a batch, say).
    public mutating func record(_ value: Value, count: Int = 1) {
        for _ in 0 ..< count {
            if values.count < capacity {
                values.append(value)
            } else {
                values[next] = value
                next = (next + 1) % capacity
            }
        }
    }

    /// The `q` quantile (0 to 1) of the window by nearest rank; nil before the first sample.
    public func quantile(_ q: Double) -> Value? {
        guard !values.isEmpty else { return nil }
        return Self.nearestRank(q, of: values.sorted())
    }

    /// The smallest value with at least `q` of the sorted window at or below it.
    private static func nearestRank(_ q: Double, of sorted: [Value]) -> Value {
        sorted[max(0, min(sorted.count - 1, Int((q * Double(sorted.count)).rounded(.up)) - 1))]
    }

    /// Min, mean, median, 99th percentile and max, `toDouble` giving the mean's terms.
    private func summarize(_ toDouble: (Value) -> Double) -> WindowSummary<Value>? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        return WindowSummary(min: sorted[0], mean: sorted.reduce(0) { $0 + toDouble($1) } / Double(sorted.count),
                             p50: Self.nearestRank(0.5, of: sorted), p99: Self.nearestRank(0.99, of: sorted),
                             max: sorted[sorted.count - 1])
    }
}

extension RingWindow where Value: BinaryInteger {
    /// Min, mean, median, 99th percentile and max of the window; nil before the first sample.
    public var summary: WindowSummary<Value>? { summarize { Double($0) } }
}

extension RingWindow where Value: BinaryFloatingPoint {
    /// Min, mean, median, 99th percentile and max of the window; nil before the first sample.
    public var summary: WindowSummary<Value>? { summarize { Double($0) } }
}

extension RingWindow where Value == Double {
    /// Records `duration` in milliseconds.
    public mutating func recordMilliseconds(of duration: Duration) {
        record(duration.milliseconds)
    }
}

/// A `RingWindow`'s min, mean, median, 99th percentile and max.
public struct WindowSummary<Value: Sendable & Equatable>: Sendable, Equatable {
    public var min: Value
    public var mean: Double
    public var p50: Value
    public var p99: Value
    public var max: Value

    public init(min: Value, mean: Double, p50: Value, p99: Value, max: Value) {
        self.min = min
        self.mean = mean
        self.p50 = p50
        self.p99 = p99
        self.max = max
    }
}

extension WindowSummary: Codable where Value: Codable {}
