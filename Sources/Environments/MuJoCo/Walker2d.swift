/// gymnasium's Walker2d-v4: a planar biped rewarded for walking forward.
///
/// Observation (17): `qpos[1...]` and `qvel` clipped to [-10, 10]. Reward: forward
/// velocity of `qpos[0]` + 1 (healthy) − 0.001‖a‖². The episode terminates unless
/// 0.8 < z < 2 and −1 < angle < 1.
public typealias Walker2d = MuJoCoEnvironment<Walker2dTask>

/// The Walker2d-v4 task; see `Walker2d`.
public struct Walker2dTask: MuJoCoTask {
    public static let name = "walker2d"
    public static let gymnasiumID = "Walker2d-v4"
    public static let frameSkip = 4
    public static let sizes = (nq: 9, nv: 9, nu: 6)
    public static let observationCount = 17
    public static let resetNoise = MuJoCoResetNoise.uniform(scale: 5e-3)
    public static let readsContactForces = false
    public static let builtInModel = compileBuiltIn(MuJoCoModels.walker2d)

    /// Weight of ‖a‖² in the cost.
    public static let controlCostWeight = 1e-3
    /// Paid every step, the terminating one included.
    public static let healthyReward = 1.0
    /// Healthy torso height, exclusive.
    public static let healthyZ = (low: 0.8, high: 2.0)
    /// Healthy torso angle, exclusive.
    public static let healthyAngle = (low: -1.0, high: 1.0)

    public init(model: MuJoCoModel) {}

    public func reward(forwardVelocity: Double, action: [Float], simulation: MuJoCoSimulation) -> Double {
        (forwardVelocity + Self.healthyReward) - controlCost(weight: Self.controlCostWeight, action: action)
    }

    public func isHealthy(_ simulation: MuJoCoSimulation) -> Bool {
        let qpos = simulation.data.pointee.qpos!
        let (z, angle) = (qpos[1], qpos[2])
        return Self.healthyZ.low < z && z < Self.healthyZ.high
            && Self.healthyAngle.low < angle && angle < Self.healthyAngle.high
    }

    public func observation(_ simulation: MuJoCoSimulation) -> [Float] {
        planarObservation(simulation, velocityBound: 10)
    }
}
