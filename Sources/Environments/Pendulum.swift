#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The inverted-pendulum swing-up task, gymnasium's Pendulum-v1 with its 200-step limit.
///
/// Observation `[cos θ, sin θ, θ̇]`, action a torque in [-2, 2], reward
/// `-(normalize(θ)² + 0.1 θ̇² + 0.001 u²)`. The state is float64 as in gymnasium and
/// the arithmetic follows its order and precision step by step (see `step`), so a
/// trajectory from the same state matches gymnasium's float32 observations.
public struct Pendulum: Environment {
    /// Largest angular speed; faster motion is clipped (gymnasium `max_speed`).
    public static let maxSpeed = 8.0
    /// Largest torque magnitude (gymnasium `max_torque`).
    public static let maxTorque: Float = 2.0
    /// Integration step in seconds.
    public static let dt = 0.05
    /// Pendulum mass.
    public static let mass = 1.0
    /// Pendulum length.
    public static let length = 1.0
    /// gymnasium's default reset bounds: θ in [-π, π], θ̇ in [-1, 1].
    public static let resetHigh = (theta: Double.pi, thetaDot: 1.0)

    /// Gravitational acceleration (gymnasium's `g`, default 10).
    public let gravity: Double

    /// The angle in radians, 0 upright, not normalised.
    public private(set) var theta: Double = 0
    /// The angular velocity in radians per second.
    public private(set) var thetaDot: Double = 0

    private var clock: EpisodeClock
    private var generator: EnvironmentGenerator

    /// A pendulum with gymnasium's defaults; `maxEpisodeSteps` replaces the 200-step limit.
    public init(gravity: Double = 10.0, maxEpisodeSteps: Int = 200) {
        self.gravity = gravity
        self.clock = EpisodeClock(maxSteps: maxEpisodeSteps)
        self.generator = .fromEntropy()
    }

    public let observationSpace = BoxSpace(
        shape: [3], low: [-1, -1, Float(-maxSpeed)], high: [1, 1, Float(maxSpeed)])

    public let actionSpace = BoxSpace(shape: [1], low: -maxTorque, high: maxTorque)

    public var maxEpisodeSteps: Int { clock.maxSteps }

    public var elapsedSteps: Int { clock.elapsed }

    /// Draws θ then θ̇ as gymnasium's `np_random.uniform(low=-high, high=high)` does, so
    /// a seed gives gymnasium's start state bit for bit; without a seed the stream continues.
    public mutating func reset(seed: UInt64?) -> [Float] {
        if let seed { generator = EnvironmentGenerator(seed: seed) }
        clock.restart()
        theta = generator.uniform(low: -Self.resetHigh.theta, high: Self.resetHigh.theta)
        thetaDot = generator.uniform(low: -Self.resetHigh.thetaDot, high: Self.resetHigh.thetaDot)
        return observation
    }

    /// Places the pendulum in a given state without touching the step count.
    ///
    /// The gymnasium fixtures use it to replay recorded trajectories from the state
    /// gymnasium drew.
    public mutating func setState(theta: Double, thetaDot: Double) {
        self.theta = theta
        self.thetaDot = thetaDot
    }

    public mutating func step(action: [Float]) -> StepResult {
        precondition(action.count == 1, "Pendulum takes 1 action component, got \(action.count)")
        // NOTE: gymnasium clips the float32 action and keeps it float32; under numpy 2's
        // promotion rules `0.001 * u**2` and `3.0 * u` are then float32 products that
        // join the float64 state only afterwards. Matching that keeps the last bits equal.
        let u = min(max(action[0], -Self.maxTorque), Self.maxTorque)
        let angle = Self.normalizeAngle(theta)
        let cost = angle * angle + 0.1 * (thetaDot * thetaDot) + Double(Float(0.001) * (u * u))

        let gravityTerm = 3 * gravity / (2 * Self.length) * sin(theta)
        let torqueTerm = Double(Float(3.0 / (Self.mass * Self.length * Self.length)) * u)
        var newThetaDot = thetaDot + (gravityTerm + torqueTerm) * Self.dt
        newThetaDot = min(max(newThetaDot, -Self.maxSpeed), Self.maxSpeed)
        theta += newThetaDot * Self.dt
        thetaDot = newThetaDot

        let truncated = clock.tick()
        return StepResult(observation: observation, reward: -cost, terminated: false, truncated: truncated)
    }

    /// The float32 observation of the current state, rounded once from float64.
    public var observation: [Float] {
        [Float(cos(theta)), Float(sin(theta)), Float(thetaDot)]
    }

    /// Maps an angle to [-π, π) the way gymnasium's `angle_normalize` does.
    ///
    /// numpy's `%` takes the sign of the divisor, unlike `fmod`, so a negative
    /// remainder is shifted up by one period.
    static func normalizeAngle(_ x: Double) -> Double {
        let period = 2 * Double.pi
        var r = (x + Double.pi).truncatingRemainder(dividingBy: period)
        if r < 0 { r += period }
        return r - Double.pi
    }
}

extension Pendulum: SnapshotEnvironment {
    public func snapshot() -> EnvironmentSnapshot {
        EnvironmentSnapshot(
            kind: "pendulum", values: ["theta": theta, "theta_dot": thetaDot], elapsedSteps: clock.elapsed,
            generator: generator.state)
    }

    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        let (theta, thetaDot) = (try snapshot.value("theta"), try snapshot.value("theta_dot"))
        generator = try snapshot.restoreCommon(expectedKind: "pendulum", clock: &clock)
        setState(theta: theta, thetaDot: thetaDot)
    }
}
