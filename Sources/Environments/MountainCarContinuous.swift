#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The continuous mountain car, gymnasium's MountainCarContinuous-v0 with its 999-step limit.
///
/// A car in a valley must rock back and forth to reach the flag at position 0.45.
/// Observation `[position, velocity]`, action a force in [-1, 1], reward
/// `-0.1 a²` per step plus 100 on reaching the goal, which terminates the episode.
public struct MountainCarContinuous: Environment {
    public static let minAction: Float = -1.0
    public static let maxAction: Float = 1.0
    public static let minPosition = -1.2
    public static let maxPosition = 0.6
    public static let maxSpeed = 0.07
    /// The flag's position.
    public static let goalPosition = 0.45
    /// How hard the engine pushes per unit of action.
    public static let power = 0.0015
    /// gymnasium's reset range for the position; the velocity starts at 0.
    public static let resetPositionRange = (low: -0.6, high: -0.4)

    /// The least velocity that counts as reaching the goal (gymnasium `goal_velocity`, default 0).
    public let goalVelocity: Double

    /// The car's position. Float64 right after `reset`, float32-valued after any step.
    public private(set) var position: Double = 0
    /// The car's velocity, in the same precision as `position`.
    public private(set) var velocity: Double = 0

    // NOTE: gymnasium's reset state is a float64 array, but `step` stores the new
    // state as float32, so the first step after reset runs in float64 and every later
    // step in float32 (numpy 2 keeps float32 scalars float32 against Python floats,
    // comparisons included). Tracking which one applies keeps trajectories identical.
    private var stateIsSinglePrecision = false
    private var clock: EpisodeClock
    private var generator: EnvironmentGenerator

    /// A mountain car with gymnasium's defaults; `maxEpisodeSteps` replaces the 999-step limit.
    public init(goalVelocity: Double = 0, maxEpisodeSteps: Int = 999) {
        self.goalVelocity = goalVelocity
        self.clock = EpisodeClock(maxSteps: maxEpisodeSteps)
        self.generator = .fromEntropy()
    }

    public let observationSpace = BoxSpace(
        shape: [2], low: [Float(minPosition), Float(-maxSpeed)],
        high: [Float(maxPosition), Float(maxSpeed)])

    public let actionSpace = BoxSpace(shape: [1], low: minAction, high: maxAction)

    public var maxEpisodeSteps: Int { clock.maxSteps }

    public var elapsedSteps: Int { clock.elapsed }

    /// Draws the position as gymnasium's `np_random.uniform(low=-0.6, high=-0.4)` does, so
    /// a seed gives gymnasium's start state bit for bit; without a seed the stream continues.
    public mutating func reset(seed: UInt64?) -> [Float] {
        if let seed { generator = EnvironmentGenerator(seed: seed) }
        clock.restart()
        let range = Self.resetPositionRange
        setState(position: generator.uniform(low: range.low, high: range.high), velocity: 0)
        return observation
    }

    /// Places the car in a float64 state, as gymnasium's reset leaves it, keeping the step count.
    ///
    /// The gymnasium fixtures use it to replay recorded trajectories from the state
    /// gymnasium drew.
    public mutating func setState(position: Double, velocity: Double) {
        self.position = position
        self.velocity = velocity
        stateIsSinglePrecision = false
    }

    public mutating func step(action: [Float]) -> StepResult {
        precondition(action.count == 1, "MountainCarContinuous takes 1 action component, got \(action.count)")
        let a = action[0]
        let terminated =
            stateIsSinglePrecision ? advanceSinglePrecision(action: a) : advanceDoublePrecision(action: a)
        stateIsSinglePrecision = true
        // Like gymnasium, the stored state becomes float32; the reward sees the raw action.
        position = Double(Float(position))
        velocity = Double(Float(velocity))
        let reward = (terminated ? 100.0 : 0.0) - Double(a) * Double(a) * 0.1
        let truncated = clock.tick()
        return StepResult(
            observation: observation, reward: reward, terminated: terminated, truncated: truncated)
    }

    /// The float32 observation of the current state.
    public var observation: [Float] {
        [Float(position), Float(velocity)]
    }

    /// The engine's contribution `force * power - 0.0025 cos(3 x)` as gymnasium computes it.
    ///
    /// `cosine` is `cos(3 x)` in float64. An in-range action stays a float32 scalar, so
    /// the product is float32 and the float64 slope term is rounded to float32 before
    /// the subtraction: the result is float32-valued. An action outside [-1, 1] is
    /// clipped to a Python float and the whole expression stays float64.
    private static func acceleration(action a: Float, cosine: Double) -> Double {
        let slope = 0.0025 * cosine
        if a < minAction || a > maxAction {
            let force = Double(min(max(a, minAction), maxAction))
            return force * power - slope
        }
        return Double(a * Float(power) - Float(slope))
    }

    /// One step from a float32 state: every operation in float32 except the cosine.
    private mutating func advanceSinglePrecision(action a: Float) -> Bool {
        var p = Float(position)
        var v = Float(velocity)
        v += Float(Self.acceleration(action: a, cosine: cos(Double(3 * p))))
        v = min(max(v, Float(-Self.maxSpeed)), Float(Self.maxSpeed))
        p += v
        p = min(max(p, Float(Self.minPosition)), Float(Self.maxPosition))
        if p == Float(Self.minPosition) && v < 0 { v = 0 }
        position = Double(p)
        velocity = Double(v)
        return p >= Float(Self.goalPosition) && v >= Float(goalVelocity)
    }

    /// One step from the float64 reset state.
    private mutating func advanceDoublePrecision(action a: Float) -> Bool {
        var p = position
        var v = velocity
        v += Self.acceleration(action: a, cosine: cos(3 * p))
        v = min(max(v, -Self.maxSpeed), Self.maxSpeed)
        p += v
        p = min(max(p, Self.minPosition), Self.maxPosition)
        if p == Self.minPosition && v < 0 { v = 0 }
        position = p
        velocity = v
        return p >= Self.goalPosition && v >= goalVelocity
    }
}

extension MountainCarContinuous: SnapshotEnvironment {
    public func snapshot() -> EnvironmentSnapshot {
        EnvironmentSnapshot(
            kind: "mountaincar", values: ["position": position, "velocity": velocity],
            flags: ["single_precision": stateIsSinglePrecision], elapsedSteps: clock.elapsed,
            generator: generator.state)
    }

    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        let (position, velocity) = (try snapshot.value("position"), try snapshot.value("velocity"))
        guard let single = snapshot.flags["single_precision"] else {
            throw .invalidSnapshot(kind: "mountaincar", reason: "missing flag 'single_precision'")
        }
        generator = try snapshot.restoreCommon(expectedKind: "mountaincar", clock: &clock)
        setState(position: position, velocity: velocity)
        stateIsSinglePrecision = single
    }
}
