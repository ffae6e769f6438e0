/// Errors from building environments.
public enum EnvironmentError: Error, Equatable, CustomStringConvertible {
    /// No built-in environment has this name; `known` lists the names that exist.
    case unknownEnvironment(name: String, known: [String])
    /// A time limit must allow at least one step.
    case invalidMaxEpisodeSteps(Int)
    /// An `EnvironmentSnapshot` cannot be restored into this environment; `reason` says why.
    case invalidSnapshot(kind: String, reason: String)
    /// A model file was given for an environment that is not simulated by MuJoCo.
    case modelPathNotSupported(name: String)
    /// MuJoCo is missing, or the model does not load or does not fit the task.
    case mujoco(MuJoCoError)

    public var description: String {
        switch self {
        case let .unknownEnvironment(name, known):
            "unknown environment '\(name)'; choose one of: \(known.joined(separator: ", "))"
        case let .invalidMaxEpisodeSteps(steps):
            "max episode steps must be at least 1, got \(steps)"
        case let .invalidSnapshot(kind, reason):
            "cannot restore the \(kind) environment: \(reason)"
        case let .modelPathNotSupported(name):
            "the \(name) environment has no MuJoCo model; a model file applies only to "
                + EnvironmentRegistry.entries.filter(\.acceptsModelPath).map(\.name).joined(separator: ", ")
        case let .mujoco(error):
            error.description
        }
    }
}

/// Builds the built-in environments by name, for command lines and actor configs.
public enum EnvironmentRegistry {
    /// One built-in environment: its canonical name, its gymnasium id, and a builder.
    public struct Entry: Sendable {
        /// The short name used on the command line.
        public let name: String
        /// The gymnasium id it reproduces (or the reference repository's name for it).
        public let gymnasiumID: String
        /// The default time limit.
        public let maxEpisodeSteps: Int
        /// Whether a user's model file can replace the built-in model (the MuJoCo tasks).
        public let acceptsModelPath: Bool
        let build: @Sendable (_ maxEpisodeSteps: Int, _ modelPath: String?) throws(EnvironmentError) -> any Environment

        init(
            name: String, gymnasiumID: String, maxEpisodeSteps: Int,
            build: @escaping @Sendable (_ maxEpisodeSteps: Int) -> any Environment
        ) {
            self.name = name
            self.gymnasiumID = gymnasiumID
            self.maxEpisodeSteps = maxEpisodeSteps
            self.acceptsModelPath = false
            self.build = { steps, _ in build(steps) }
        }

        /// The entry of a MuJoCo task; its name, id and 1000-step limit come from the task.
        init<Task: MuJoCoTask>(mujoco task: Task.Type) {
            name = Task.name
            gymnasiumID = Task.gymnasiumID
            maxEpisodeSteps = 1000
            acceptsModelPath = true
            build = { steps, modelPath throws(EnvironmentError) in
                do throws(MuJoCoError) {
                    if let modelPath { return try MuJoCoEnvironment<Task>(modelPath: modelPath, maxEpisodeSteps: steps) }
                    return try MuJoCoEnvironment<Task>(maxEpisodeSteps: steps)
                } catch {
                    throw .mujoco(error)
                }
            }
        }
    }

    /// Every built-in environment, in the order error messages list them.
    public static let entries: [Entry] = [
        Entry(name: "pendulum", gymnasiumID: "Pendulum-v1", maxEpisodeSteps: 200) {
            Pendulum(maxEpisodeSteps: $0)
        },
        Entry(name: "mountaincar", gymnasiumID: "MountainCarContinuous-v0", maxEpisodeSteps: 999) {
            MountainCarContinuous(maxEpisodeSteps: $0)
        },
        Entry(name: "multigoal", gymnasiumID: "MultiGoal", maxEpisodeSteps: 1000) {
            MultiGoal(maxEpisodeSteps: $0)
        },
        Entry(mujoco: HopperTask.self),
        Entry(mujoco: Walker2dTask.self),
        Entry(mujoco: HalfCheetahTask.self),
        Entry(mujoco: AntTask.self),
        Entry(mujoco: HumanoidTask.self),
    ]

    /// The canonical names of the built-in environments.
    public static var names: [String] { entries.map(\.name) }

    /// Finds an environment by canonical name or gymnasium id, ignoring case.
    public static func entry(named name: String) throws(EnvironmentError) -> Entry {
        let key = name.lowercased()
        guard let entry = entries.first(where: { $0.name == key || $0.gymnasiumID.lowercased() == key })
        else { throw .unknownEnvironment(name: name, known: names) }
        return entry
    }

    /// Builds a fresh environment in its own units (not rescaled).
    ///
    /// `maxEpisodeSteps` replaces the built-in time limit, e.g. the 100-step cap a
    /// MultiGoal benchmark may use. `modelPath`, for the MuJoCo tasks only, replaces the
    /// built-in model with a user's MJCF file that must fit the task.
    public static func makeEnvironment(
        name: String, maxEpisodeSteps: Int? = nil, modelPath: String? = nil
    ) throws(EnvironmentError) -> any Environment {
        let entry = try entry(named: name)
        let steps = maxEpisodeSteps ?? entry.maxEpisodeSteps
        guard steps >= 1 else { throw .invalidMaxEpisodeSteps(steps) }
        if modelPath != nil && !entry.acceptsModelPath { throw .modelPathNotSupported(name: entry.name) }
        return try entry.build(steps, modelPath)
    }

    /// Builds a fresh environment behind a [-1, 1]^d action interface, as policies need.
    public static func makeUnitActionEnvironment(
        name: String, maxEpisodeSteps: Int? = nil, modelPath: String? = nil
    ) throws(EnvironmentError) -> any Environment {
        rescaled(try makeEnvironment(name: name, maxEpisodeSteps: maxEpisodeSteps, modelPath: modelPath))
    }

    /// Wraps an environment of any concrete type; the existential argument is opened here.
    private static func rescaled<E: Environment>(_ environment: E) -> any Environment {
        RescaleAction(environment)
    }
}
