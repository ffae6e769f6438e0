import CMuJoCo

/// gymnasium's Humanoid-v4: a 3-D humanoid rewarded for moving its centre of mass along +x.
///
/// Observation (376): `qpos[2...]` (22), `qvel` (23), `cinert` (14·10), `cvel` (14·6),
/// `qfrc_actuator` (23) and `cfrc_ext` (14·6), read straight after the last substep
/// (gymnasium calls `mj_rnePostConstraint` for `cfrc_ext`; it is zero after a reset).
/// Reward: 1.25 · x velocity of the mass-weighted mean of the bodies' `xipos` + 5
/// (healthy) − 0.1‖ctrl‖². The episode terminates unless 1 < z < 2.
public typealias Humanoid = MuJoCoEnvironment<HumanoidTask>

/// The Humanoid-v4 task; see `Humanoid`.
public struct HumanoidTask: MuJoCoTask {
    public static let name = "humanoid"
    public static let gymnasiumID = "Humanoid-v4"
    public static let frameSkip = 5
    public static let sizes = (nq: 24, nv: 23, nu: 17)
    public static let observationCount = 376
    public static let resetNoise = MuJoCoResetNoise.uniform(scale: 1e-2)
    public static let readsContactForces = true
    public static let builtInModel = compileBuiltIn(MuJoCoModels.humanoid)

    /// Bodies, the world included; the observation has 20 values per body.
    public static let bodyCount = 14
    /// Weight of the forward velocity.
    public static let forwardRewardWeight = 1.25
    /// Weight of ‖ctrl‖² in the cost.
    public static let controlCostWeight = 0.1
    /// Paid every step, the terminating one included.
    public static let healthyReward = 5.0
    /// Healthy torso height, exclusive.
    public static let healthyZ = (low: 1.0, high: 2.0)

    /// Body masses, world first.
    public let masses: [Double]
    /// Their sum as numpy forms it.
    public let totalMass: Double

    public init(model: MuJoCoModel) throws(MuJoCoError) {
        guard model.nbody == Self.bodyCount else {
            throw .modelMismatch(
                task: Self.name, source: model.source,
                reason: "it has \(model.nbody) bodies (world included), the 376-value observation needs \(Self.bodyCount)")
        }
        masses = model.bodyMasses
        totalMass = numpySum(masses)
    }

    /// The x coordinate of the centre of mass, as gymnasium's `mass_center` sums it.
    public func forwardPosition(_ simulation: MuJoCoSimulation) -> Double {
        let xipos = simulation.data.pointee.xipos!
        var weighted = 0.0
        for body in masses.indices { weighted += masses[body] * xipos[3 * body] }
        return weighted / totalMass
    }

    public func reward(forwardVelocity: Double, action: [Float], simulation: MuJoCoSimulation) -> Double {
        // gymnasium's Humanoid charges the controls MuJoCo holds (float64), not the float32 action.
        let ctrl = MuJoCoSimulation.read(simulation.data.pointee.ctrl, Self.sizes.nu)
        let cost = Self.controlCostWeight * numpySum(ctrl.map { $0 * $0 })
        return (Self.forwardRewardWeight * forwardVelocity + Self.healthyReward) - cost
    }

    public func isHealthy(_ simulation: MuJoCoSimulation) -> Bool {
        let z = simulation.data.pointee.qpos[2]
        return Self.healthyZ.low < z && z < Self.healthyZ.high
    }

    public func observation(_ simulation: MuJoCoSimulation) -> [Float] {
        let d = simulation.data.pointee
        let parts: [[Double]] = [
            Array(simulation.qpos.dropFirst(2)), simulation.qvel,
            MuJoCoSimulation.read(d.cinert, 10 * Self.bodyCount), MuJoCoSimulation.read(d.cvel, 6 * Self.bodyCount),
            MuJoCoSimulation.read(d.qfrc_actuator, Self.sizes.nv), MuJoCoSimulation.read(d.cfrc_ext, 6 * Self.bodyCount),
        ]
        return parts.flatMap { $0.map { Float($0) } }
    }
}
