/// gymnasium's Hopper-v4: a one-legged planar hopper rewarded for hopping forward.
///
/// Observation (11): `qpos[1...]` (height, angles; x left out) and `qvel` clipped to
/// [-10, 10]. Reward: forward velocity of `qpos[0]` + 1 (healthy) − 0.001‖a‖².
/// The episode terminates unless 0.7 < z, |angle| < 0.2 and every other state value
/// lies strictly within ±100.
public typealias Hopper = MuJoCoEnvironment<HopperTask>

/// The Hopper-v4 task; see `Hopper`.
public struct HopperTask: MuJoCoTask {
    public static let name = "hopper"
    public static let gymnasiumID = "Hopper-v4"
    public static let frameSkip = 4
    public static let sizes = (nq: 6, nv: 6, nu: 3)
    public static let observationCount = 11
    public static let resetNoise = MuJoCoResetNoise.uniform(scale: 5e-3)
    public static let readsContactForces = false
    public static let builtInModel = compileBuiltIn(MuJoCoModels.hopper)

    /// Weight of ‖a‖² in the cost.
    public static let controlCostWeight = 1e-3
    /// Paid every step, the terminating one included (v4 with `terminate_when_unhealthy`).
    public static let healthyReward = 1.0
    /// Healthy torso height, exclusive.
    public static let healthyZ = (low: 0.7, high: Double.infinity)
    /// Healthy torso angle, exclusive.
    public static let healthyAngle = (low: -0.2, high: 0.2)
    /// Healthy range of `qpos[2...]` and `qvel`, exclusive.
    public static let healthyState = (low: -100.0, high: 100.0)

    public init(model: MuJoCoModel) {}

    public func reward(forwardVelocity: Double, action: [Float], simulation: MuJoCoSimulation) -> Double {
        (forwardVelocity + Self.healthyReward) - controlCost(weight: Self.controlCostWeight, action: action)
    }

    public func isHealthy(_ simulation: MuJoCoSimulation) -> Bool {
        let (qpos, qvel) = (simulation.qpos, simulation.qvel)
        let (z, angle) = (qpos[1], qpos[2])
        let range = Self.healthyState
        return (qpos[2...] + qvel).allSatisfy { range.low < $0 && $0 < range.high }
            && Self.healthyZ.low < z && z < Self.healthyZ.high
            && Self.healthyAngle.low < angle && angle < Self.healthyAngle.high
    }

    public func observation(_ simulation: MuJoCoSimulation) -> [Float] {
        planarObservation(simulation, velocityBound: 10)
    }
}

/// `qpos[1...]` then `qvel` (clipped to ±`velocityBound` if given), as float32: the
/// observation of the planar tasks (Hopper, Walker2d, HalfCheetah).
func planarObservation(_ simulation: MuJoCoSimulation, velocityBound: Double?) -> [Float] {
    let positions = simulation.qpos.dropFirst().map { Float($0) }
    let velocities = simulation.qvel.map { v in
        guard let bound = velocityBound else { return Float(v) }
        return Float(min(max(v, -bound), bound))
    }
    return positions + velocities
}
