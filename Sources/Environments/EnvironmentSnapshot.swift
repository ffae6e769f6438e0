/// The complete state of a built-in environment, for exact resume from a checkpoint.
///
/// Restoring it into a fresh instance of the same environment makes the next `step`
/// and the next unseeded `reset` return exactly what the original would have: the
/// physical state, the step count of the time limit, and the environment's own
/// generator are all in it. Values are named so that a checkpoint's JSON reads plainly
/// and a snapshot of one environment is refused by another.
public struct EnvironmentSnapshot: Sendable, Equatable, Codable {
    /// The environment type, e.g. "pendulum"; `restore` refuses another kind.
    public var kind: String
    /// The physical state, by name (float64, exact in JSON: Swift prints doubles round-trip).
    public var values: [String: Double]
    /// Boolean facts about the state (e.g. the mountain car's float32 phase).
    public var flags: [String: Bool]
    /// Steps taken in the current episode.
    public var elapsedSteps: Int
    /// The environment generator's four state words (PCG64 state and increment, see `EnvironmentGenerator.state`).
    public var generator: [UInt64]

    public init(
        kind: String, values: [String: Double], flags: [String: Bool] = [:], elapsedSteps: Int, generator: [UInt64]
    ) {
        self.kind = kind
        self.values = values
        self.flags = flags
        self.elapsedSteps = elapsedSteps
        self.generator = generator
    }

    /// The value called `name`, or a `.invalidSnapshot` error naming it.
    func value(_ name: String) throws(EnvironmentError) -> Double {
        guard let v = values[name], v.isFinite else {
            throw .invalidSnapshot(kind: kind, reason: "missing or non-finite value '\(name)'")
        }
        return v
    }

    /// Checks the kind and rebuilds the generator and the clock's step count.
    func restoreCommon(
        expectedKind: String, clock: inout EpisodeClock
    ) throws(EnvironmentError) -> EnvironmentGenerator {
        guard kind == expectedKind else {
            throw .invalidSnapshot(kind: expectedKind, reason: "the snapshot is of a '\(kind)' environment")
        }
        guard let restored = EnvironmentGenerator(state: generator) else {
            throw .invalidSnapshot(
                kind: kind,
                reason: "generator state must be 4 PCG64 words ending in an odd increment; "
                    + "a checkpoint from before the environments used numpy's PCG64 cannot be resumed")
        }
        guard clock.restore(elapsed: elapsedSteps) else {
            throw .invalidSnapshot(
                kind: kind, reason: "elapsed steps \(elapsedSteps) outside 0...\(clock.maxSteps)")
        }
        return restored
    }
}

/// An environment whose whole state can be saved and restored (all built-in ones).
///
/// The single-process trainer checkpoints its training environment through this, so a
/// resumed run continues the interrupted episode instead of starting a new one.
public protocol SnapshotEnvironment: Environment {
    /// Everything needed to continue exactly from here.
    func snapshot() -> EnvironmentSnapshot

    /// Continues from `snapshot`; throws if it belongs to another kind of environment or is malformed.
    mutating func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError)
}
