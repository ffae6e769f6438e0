/// gymnasium's Ant-v4 with its defaults (`use_contact_forces=False`): a quadruped
/// rewarded for moving its torso along +x.
///
/// Observation (27): `qpos[2...]` (x and y left out) and `qvel`. Reward: x velocity of
/// the torso body + 1 (healthy) − 0.5‖a‖²; no contact cost. The episode terminates
/// when the state is not finite or the torso height leaves [0.2, 1.0] (inclusive).
/// Reset velocities are normal, `0.1 · N(0, 1)`.
public typealias Ant = MuJoCoEnvironment<AntTask>

/// The Ant-v4 task; see `Ant`.
public struct AntTask: MuJoCoTask {
    public static let name = "ant"
    public static let gymnasiumID = "Ant-v4"
    public static let frameSkip = 5
    public static let sizes = (nq: 15, nv: 14, nu: 8)
    public static let observationCount = 27
    public static let resetNoise = MuJoCoResetNoise.uniformPositionsNormalVelocities(scale: 0.1)
    public static let readsContactForces = false
    public static let builtInModel = compileBuiltIn(MuJoCoModels.ant)

    /// Weight of ‖a‖² in the cost.
    public static let controlCostWeight = 0.5
    /// Paid every step, the terminating one included.
    public static let healthyReward = 1.0
    /// Healthy torso height, inclusive.
    public static let healthyZ = 0.2...1.0

    /// The body whose position (`xpos`, gymnasium's `get_body_com`) measures progress.
    public let torso: Int

    public init(model: MuJoCoModel) throws(MuJoCoError) {
        guard let torso = model.bodyID(named: "torso") else {
            throw .modelMismatch(task: Self.name, source: model.source, reason: "it has no body named 'torso'")
        }
        self.torso = torso
    }

    public func forwardPosition(_ simulation: MuJoCoSimulation) -> Double {
        simulation.data.pointee.xpos[3 * torso]
    }

    public func reward(forwardVelocity: Double, action: [Float], simulation: MuJoCoSimulation) -> Double {
        (forwardVelocity + Self.healthyReward) - controlCost(weight: Self.controlCostWeight, action: action)
    }

    public func isHealthy(_ simulation: MuJoCoSimulation) -> Bool {
        simulation.stateIsFinite && Self.healthyZ.contains(simulation.data.pointee.qpos[2])
    }

    public func observation(_ simulation: MuJoCoSimulation) -> [Float] {
        (simulation.qpos.dropFirst(2) + simulation.qvel).map { Float($0) }
    }
}
