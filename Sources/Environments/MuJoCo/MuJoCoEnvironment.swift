/// How a task perturbs the reference state at reset (gymnasium's `reset_model`).
public enum MuJoCoResetNoise: Sendable, Equatable {
    /// `qpos += U(-scale, scale)` for each of nq, then `qvel += U(-scale, scale)` for each of nv.
    case uniform(scale: Double)
    /// `qpos += U(-scale, scale)` for each of nq, then `qvel += scale * N(0, 1)` for each of nv.
    case uniformPositionsNormalVelocities(scale: Double)

    /// The noise half-width.
    public var scale: Double {
        switch self {
        case let .uniform(scale), let .uniformPositionsNormalVelocities(scale): scale
        }
    }
}

/// What distinguishes one MuJoCo locomotion task from another: its model, observation,
/// reward and health check. `MuJoCoEnvironment` does the rest (stepping, resets, the
/// time limit, snapshots) the same way for all of them.
///
/// A task value holds what it resolved from its model (body indices, masses), so a
/// user's model variant is checked once, when the task is made.
public protocol MuJoCoTask: Sendable {
    /// The short name, also the snapshot kind: "hopper".
    static var name: String { get }
    /// The gymnasium id the task reproduces: "Hopper-v4".
    static var gymnasiumID: String { get }
    /// MuJoCo timesteps per environment step.
    static var frameSkip: Int { get }
    /// The model's required (nq, nv, nu).
    static var sizes: (nq: Int, nv: Int, nu: Int) { get }
    /// Observation length.
    static var observationCount: Int { get }
    /// Reset perturbation.
    static var resetNoise: MuJoCoResetNoise { get }
    /// Whether the observation reads `cfrc_ext`, which needs `mj_rnePostConstraint` after stepping.
    static var readsContactForces: Bool { get }
    /// The built-in model, compiled once per process.
    static var builtInModel: Result<MuJoCoModel, MuJoCoError> { get }

    /// Resolves what the task reads from `model`; throws `.modelMismatch` if something is missing.
    init(model: MuJoCoModel) throws(MuJoCoError)

    /// The coordinate whose change over one step's duration is the forward velocity.
    func forwardPosition(_ simulation: MuJoCoSimulation) -> Double
    /// The reward of a step, given its forward velocity and the action as passed to `step`.
    func reward(forwardVelocity: Double, action: [Float], simulation: MuJoCoSimulation) -> Double
    /// False when the state is outside the task's healthy range (the episode terminates).
    func isHealthy(_ simulation: MuJoCoSimulation) -> Bool
    /// The observation of the current state.
    func observation(_ simulation: MuJoCoSimulation) -> [Float]
}

extension MuJoCoTask {
    /// `qpos[0]`, the slide along x of the planar tasks (Hopper, Walker2d, HalfCheetah).
    public func forwardPosition(_ simulation: MuJoCoSimulation) -> Double {
        simulation.data.pointee.qpos[0]
    }

    /// Compiles a built-in MJCF string; the result is cached by each task's `builtInModel`.
    static func compileBuiltIn(_ xml: String) -> Result<MuJoCoModel, MuJoCoError> {
        Result { () throws(MuJoCoError) in try MuJoCoModel.load(xml: xml, source: "(the built-in \(name) model)") }
    }
}

/// A MuJoCo locomotion task with gymnasium's v4 semantics and a time limit.
///
/// `step` follows gymnasium's `MujocoEnv.do_simulation` and the v4 task's `step`: the
/// action goes to `ctrl` unclipped (MuJoCo clamps it to the actuator ranges, the control
/// cost sees it as given), `frameSkip` `mj_step`s run, and the forward velocity is the
/// change of the task's forward coordinate divided by `frameSkip · timestep`.
///
/// An unstable simulation ends the episode: the step returns `terminated` with
/// `info.simulationUnstable` set, reward 0 and a finite observation, so that the
/// caller can drop and count the transition.
public struct MuJoCoEnvironment<Task: MuJoCoTask>: SnapshotEnvironment {
    /// The task, resolved against the model.
    public let task: Task
    /// The model and its state.
    public private(set) var simulation: MuJoCoSimulation

    public let observationSpace: BoxSpace
    public let actionSpace: BoxSpace

    /// The duration of one environment step, `timestep · frameSkip` (gymnasium's `dt`).
    public let dt: Double

    private var clock: EpisodeClock
    private var generator: EnvironmentGenerator
    /// The model's reference positions (`qpos0`), gymnasium's `init_qpos`.
    private let initialQpos: [Double]
    /// The task's forward coordinate as of the last reset, step or `setState`.
    ///
    /// Kept rather than re-read so that a restored snapshot continues exactly: after
    /// `mj_step` the body positions belong to the last substep's start, not to `qpos`.
    private var forwardPosition: Double

    /// The task on its built-in model; `maxEpisodeSteps` replaces the 1000-step limit.
    public init(maxEpisodeSteps: Int = 1000) throws(MuJoCoError) {
        try self.init(model: Task.builtInModel.get(), maxEpisodeSteps: maxEpisodeSteps)
    }

    /// The task on a user's MJCF file; the model must fit the task's sizes and bodies.
    public init(modelPath: String, maxEpisodeSteps: Int = 1000) throws(MuJoCoError) {
        try self.init(model: MuJoCoModel.load(path: modelPath), maxEpisodeSteps: maxEpisodeSteps)
    }

    /// The task on an already compiled model.
    public init(model: MuJoCoModel, maxEpisodeSteps: Int = 1000) throws(MuJoCoError) {
        let (nq, nv, nu) = Task.sizes
        guard model.nq == nq, model.nv == nv, model.nu == nu else {
            throw .modelMismatch(
                task: Task.name, source: model.source,
                reason: "it has nq=\(model.nq), nv=\(model.nv), nu=\(model.nu), the task needs nq=\(nq), nv=\(nv), nu=\(nu)")
        }
        let ranges = model.controlRanges
        if let unlimited = ranges.firstIndex(where: { $0 == nil }) {
            throw .modelMismatch(
                task: Task.name, source: model.source,
                reason: "actuator \(unlimited) has no finite ctrlrange (set ctrllimited=\"true\" and ctrlrange)")
        }
        task = try Task(model: model)
        simulation = MuJoCoSimulation(model: model)
        observationSpace = BoxSpace(shape: [Task.observationCount], low: -.infinity, high: .infinity)
        actionSpace = BoxSpace(
            shape: [nu], low: ranges.map { Float($0!.lowerBound) }, high: ranges.map { Float($0!.upperBound) })
        dt = model.timestep * Double(Task.frameSkip)
        clock = EpisodeClock(maxSteps: maxEpisodeSteps)
        generator = .fromEntropy()
        initialQpos = simulation.qpos
        forwardPosition = 0
        forwardPosition = task.forwardPosition(simulation)
    }

    public var maxEpisodeSteps: Int { clock.maxSteps }

    public var elapsedSteps: Int { clock.elapsed }

    public mutating func reset(seed: UInt64?) -> [Float] {
        clock.restart()
        simulation.resetData()
        let start = drawStartState(seed: seed)
        setState(qpos: start.qpos, qvel: start.qvel)
        return task.observation(simulation)
    }

    /// Draws a start state in gymnasium's order: all of qpos's noise, then qvel's.
    ///
    /// This is the state before `mj_forward`, which may normalise free-joint quaternions in place.
    mutating func drawStartState(seed: UInt64?) -> (qpos: [Double], qvel: [Double]) {
        if let seed { generator = EnvironmentGenerator(seed: seed) }
        let scale = Task.resetNoise.scale
        let initialQvel = [Double](repeating: 0, count: simulation.model.nv)  // a fresh mjData is at rest
        let qpos = initialQpos.map { $0 + generator.uniform(low: -scale, high: scale) }
        let qvel: [Double] =
            switch Task.resetNoise {
            case .uniform: initialQvel.map { $0 + generator.uniform(low: -scale, high: scale) }
            case .uniformPositionsNormalVelocities: initialQvel.map { $0 + scale * generator.standardNormal() }
            }
        return (qpos, qvel)
    }

    /// Places the simulation in a state (gymnasium's `set_state`) without touching the step count.
    public mutating func setState(qpos: [Double], qvel: [Double]) {
        simulation.setState(qpos: qpos, qvel: qvel)
        forwardPosition = task.forwardPosition(simulation)
    }

    /// The current observation.
    public var observation: [Float] { task.observation(simulation) }

    public mutating func step(action: [Float]) -> StepResult {
        precondition(action.count == actionSpace.count, "\(Task.name) takes \(actionSpace.count) action components, got \(action.count)")
        let before = forwardPosition
        let stable = simulation.advance(
            control: action, frames: Task.frameSkip, computeContactForces: Task.readsContactForces)
        forwardPosition = task.forwardPosition(simulation)
        let truncated = clock.tick()
        guard stable else {
            return StepResult(
                observation: task.observation(simulation), reward: 0, terminated: true, truncated: truncated,
                info: StepInfo(simulationUnstable: true))
        }
        let forwardVelocity = (forwardPosition - before) / dt
        return StepResult(
            observation: task.observation(simulation),
            reward: task.reward(forwardVelocity: forwardVelocity, action: action, simulation: simulation),
            terminated: !task.isHealthy(simulation), truncated: truncated)
    }

    /// Puts the simulation data back to the model's reference state (`mj_resetData`), as a
    /// reset does before drawing; with `setState` after it, tests replay recorded states
    /// exactly as gymnasium's recorder placed them (the solver's warm start included).
    mutating func resetSimulationData() {
        simulation.resetData()
    }

    /// Sets the time limit's count, for tests that replay a recorded step near the limit.
    mutating func setElapsedSteps(_ steps: Int) {
        precondition(clock.restore(elapsed: steps), "elapsed steps \(steps) outside 0...\(clock.maxSteps)")
    }
}

// MARK: - Snapshots

extension MuJoCoEnvironment {
    /// Every value of the exact state: `qpos.i`, `qvel.i`, `act.i`, `qacc_warmstart.i`,
    /// `time`, and the forward coordinate the next step's velocity starts from.
    public func snapshot() -> EnvironmentSnapshot {
        var values: [String: Double] = ["time": simulation.time, "forward_position": forwardPosition]
        for (name, array) in stateArrays(simulation) {
            for (i, value) in array.enumerated() { values["\(name).\(i)"] = value }
        }
        return EnvironmentSnapshot(
            kind: Task.name, values: values, elapsedSteps: clock.elapsed, generator: generator.state)
    }

    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        func array(_ name: String, _ count: Int) throws(EnvironmentError) -> [Double] {
            var result: [Double] = []
            for i in 0..<count { result.append(try snapshot.value("\(name).\(i)")) }
            return result
        }
        guard snapshot.kind == Task.name else {
            throw .invalidSnapshot(kind: Task.name, reason: "the snapshot is of a '\(snapshot.kind)' environment")
        }
        let model = simulation.model
        let qpos = try array("qpos", model.nq)
        let qvel = try array("qvel", model.nv)
        let act = try array("act", model.na)
        let warmstart = try array("qacc_warmstart", model.nv)
        let (time, position) = (try snapshot.value("time"), try snapshot.value("forward_position"))
        generator = try snapshot.restoreCommon(expectedKind: Task.name, clock: &clock)
        simulation.restore(qpos: qpos, qvel: qvel, act: act, qaccWarmstart: warmstart, time: time)
        forwardPosition = position
    }

    private func stateArrays(_ simulation: MuJoCoSimulation) -> [(String, [Double])] {
        [("qpos", simulation.qpos), ("qvel", simulation.qvel), ("act", simulation.act),
         ("qacc_warmstart", simulation.qaccWarmstart)]
    }
}

// MARK: - numpy's float arithmetic

/// Sums like numpy's `np.sum` over a contiguous 1-D array (pairwise, for up to 128 values).
///
/// NOTE: gymnasium's control costs are `np.sum(np.square(action))`; numpy adds eight
/// running partial sums and combines them as a tree, so a plain left-to-right sum
/// differs in the last bit for eight or more actuators. Float32 input sums in float32.
func numpySum<T: BinaryFloatingPoint>(_ values: [T]) -> T {
    precondition(values.count <= 128, "numpySum reproduces numpy's pairwise sum only up to 128 values")
    guard values.count >= 8 else { return values.reduce(0, +) }
    var partial = Array(values[0..<8])
    var i = 8
    while i < values.count - values.count % 8 {
        for k in 0..<8 { partial[k] += values[i + k] }
        i += 8
    }
    var sum = ((partial[0] + partial[1]) + (partial[2] + partial[3]))
        + ((partial[4] + partial[5]) + (partial[6] + partial[7]))
    while i < values.count {
        sum += values[i]
        i += 1
    }
    return sum
}

/// gymnasium's `weight * np.sum(np.square(action))` for a float32 action.
func controlCost(weight: Double, action: [Float]) -> Double {
    weight * Double(numpySum(action.map { $0 * $0 }))
}
