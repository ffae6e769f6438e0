/// gymnasium's HalfCheetah-v4: a planar cheetah rewarded for running forward; it never terminates.
///
/// Observation (17): `qpos[1...]` and `qvel`. Reward: forward velocity of `qpos[0]`
/// − 0.1‖a‖². Reset velocities are normal, `0.1 · N(0, 1)`.
public typealias HalfCheetah = MuJoCoEnvironment<HalfCheetahTask>

/// The HalfCheetah-v4 task; see `HalfCheetah`.
public struct HalfCheetahTask: MuJoCoTask {
    public static let name = "halfcheetah"
    public static let gymnasiumID = "HalfCheetah-v4"
    public static let frameSkip = 5
    public static let sizes = (nq: 9, nv: 9, nu: 6)
    public static let observationCount = 17
    public static let resetNoise = MuJoCoResetNoise.uniformPositionsNormalVelocities(scale: 0.1)
    public static let readsContactForces = false
    public static let builtInModel = compileBuiltIn(MuJoCoModels.halfCheetah)

    /// Weight of ‖a‖² in the cost.
    public static let controlCostWeight = 0.1

    public init(model: MuJoCoModel) {}

    public func reward(forwardVelocity: Double, action: [Float], simulation: MuJoCoSimulation) -> Double {
        forwardVelocity - controlCost(weight: Self.controlCostWeight, action: action)
    }

    public func isHealthy(_ simulation: MuJoCoSimulation) -> Bool { true }

    public func observation(_ simulation: MuJoCoSimulation) -> [Float] {
        planarObservation(simulation, velocityBound: nil)
    }
}
