/// `Duration` as a floating-point count, for rates, stats files, metrics and deadlines.
///
/// The one conversion every module uses (Telemetry imports none of the others, so all of them
/// can import it). nng's socket timeouts need whole milliseconds rounded up instead: that is
/// Transport's `Duration.nngMillisecondsRoundedUp`.
extension Duration {
    /// This duration in seconds, fractions kept (divided by exact powers of ten, so 1.5 ms is 0.0015).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// This duration in milliseconds, fractions kept.
    public var milliseconds: Double {
        Double(components.seconds) * 1e3 + Double(components.attoseconds) / 1e15
    }
}
