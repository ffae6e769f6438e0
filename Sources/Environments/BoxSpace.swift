/// A box of real vectors with per-element bounds, like gymnasium's `spaces.Box`.
///
/// Elements are stored flat in row-major order of `shape`. Bounds are `Float`
/// because every space here has gymnasium dtype float32.
public struct BoxSpace: Sendable, Equatable, CustomStringConvertible {
    /// The array shape of one element, e.g. `[3]` for Pendulum's observation.
    public let shape: [Int]

    /// Per-component lower bounds, `count` values.
    public let low: [Float]

    /// Per-component upper bounds, `count` values.
    public let high: [Float]

    /// Builds a box with per-component bounds.
    ///
    /// The bounds must have one value per component and satisfy `low <= high`.
    public init(shape: [Int], low: [Float], high: [Float]) {
        let count = shape.reduce(1, *)
        precondition(shape.allSatisfy { $0 > 0 }, "box shape \(shape) has an empty dimension")
        precondition(
            low.count == count && high.count == count,
            "box of shape \(shape) needs \(count) bounds, got \(low.count) low and \(high.count) high")
        precondition(zip(low, high).allSatisfy { $0 <= $1 }, "box bounds need low <= high")
        self.shape = shape
        self.low = low
        self.high = high
    }

    /// Builds a box whose components all share the same bounds.
    public init(shape: [Int], low: Float, high: Float) {
        let count = shape.reduce(1, *)
        self.init(
            shape: shape, low: Array(repeating: low, count: count),
            high: Array(repeating: high, count: count))
    }

    /// The number of scalar components.
    public var count: Int { low.count }

    /// Whether every component of `x` lies within its bounds.
    public func contains(_ x: [Float]) -> Bool {
        x.count == count && x.indices.allSatisfy { low[$0] <= x[$0] && x[$0] <= high[$0] }
    }

    /// Clips each component of `x` into its bounds.
    public func clip(_ x: [Float]) -> [Float] {
        precondition(x.count == count, "expected \(count) components, got \(x.count)")
        return x.indices.map { min(max(x[$0], low[$0]), high[$0]) }
    }

    /// Maps a vector of [-1, 1]^d affinely onto this box and clips it to the bounds.
    ///
    /// -1 goes to `low`, +1 to `high`. The clip makes a policy output slightly outside
    /// [-1, 1] (or rounding at the ends) land on the bound, as gymnasium's
    /// RescaleAction followed by the environment's own clip would.
    public func scale(fromUnit unit: [Float]) -> [Float] {
        precondition(unit.count == count, "expected \(count) components, got \(unit.count)")
        return unit.indices.map { i in
            // NOTE: centre + half-width * u is exact for symmetric boxes such as [-2, 2]
            // and the identity for [-1, 1]; `low + (u + 1) * ...` would round there.
            let centre = 0.5 * (high[i] + low[i])
            let halfWidth = 0.5 * (high[i] - low[i])
            let scaled = centre + halfWidth * unit[i]
            return min(max(scaled, low[i]), high[i])
        }
    }

    /// Maps a vector of this box affinely onto [-1, 1]^d, the inverse of `scale(fromUnit:)`.
    ///
    /// Useful to store environment-scaled actions (e.g. random warm-up actions) the
    /// way replay expects them: docs/algorithm.md §7.13, replay stores [-1, 1] actions.
    public func unit(fromScaled x: [Float]) -> [Float] {
        precondition(x.count == count, "expected \(count) components, got \(x.count)")
        return x.indices.map { i in
            let unit = 2 * (x[i] - low[i]) / (high[i] - low[i]) - 1
            return min(max(unit, -1), 1)
        }
    }

    /// The unit box [-1, 1]^d with this box's shape: the space policies act in.
    public var unitBox: BoxSpace {
        BoxSpace(shape: shape, low: -1, high: 1)
    }

    public var description: String {
        "Box(low: \(low), high: \(high), shape: \(shape))"
    }
}
