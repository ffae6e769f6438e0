/// Errors from building or filling a replay buffer.
public enum ReplayError: Error, Equatable, CustomStringConvertible {
    /// The capacity must be at least one transition.
    case invalidCapacity(Int)
    /// Observation and action vectors need at least one component each.
    case invalidDimensions(observation: Int, action: Int)
    /// The buffer would need `required` bytes but only `available` are free (MemAvailable).
    case insufficientMemory(required: Int, available: Int)
    /// A column or vector has `actual` values where `expected` were needed.
    case shapeMismatch(field: String, expected: Int, actual: Int)
    /// A termination flag must be 0 or 1.
    case invalidTermination(Float)
    /// A replay snapshot does not describe a buffer that could exist; `reason` says what is wrong.
    case invalidSnapshot(String)

    public var description: String {
        switch self {
        case let .invalidCapacity(capacity):
            "replay capacity must be at least 1 transition, got \(capacity)"
        case let .invalidDimensions(observation, action):
            "replay needs observation and action dimensions of at least 1, got \(observation) and \(action)"
        case let .insufficientMemory(required, available):
            "replay buffer needs \(Self.mebibytes(required)) but only \(Self.mebibytes(available)) are available; "
                + "lower the replay capacity"
        case let .shapeMismatch(field, expected, actual):
            "replay \(field) has \(actual) values, expected \(expected)"
        case let .invalidTermination(value):
            "termination flags must be 0 or 1, got \(value)"
        case let .invalidSnapshot(reason):
            "invalid replay snapshot: \(reason)"
        }
    }

    private static func mebibytes(_ bytes: Int) -> String {
        let tenths = Int((Double(bytes) / 1_048_576 * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) MiB"
    }
}
