/// Errors from building environments.
public enum EnvironmentError: Error, Equatable, CustomStringConvertible {
    /// No built-in environment has this name; `known` lists the names that exist.
    case unknownEnvironment(name: String, known: [String])
    /// A time limit must allow at least one step.
    case invalidMaxEpisodeSteps(Int)
    /// An `EnvironmentSnapshot` cannot be restored into this environment; `reason` says why.
    case invalidSnapshot(kind: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownEnvironment(name, known):
            "unknown environment '\(name)'; choose one of: \(known.joined(separator: ", "))"
        case let .invalidMaxEpisodeSteps(steps):
            "max episode steps must be at least 1, got \(steps)"
        case let .invalidSnapshot(kind, reason):
            "cannot restore the \(kind) environment: \(reason)"
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
        let build: @Sendable (_ maxEpisodeSteps: Int) -> any Environment
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
    /// MultiGoal benchmark may use.
    public static func makeEnvironment(
        name: String, maxEpisodeSteps: Int? = nil
    ) throws(EnvironmentError) -> any Environment {
        let entry = try entry(named: name)
        let steps = maxEpisodeSteps ?? entry.maxEpisodeSteps
        guard steps >= 1 else { throw .invalidMaxEpisodeSteps(steps) }
        return entry.build(steps)
    }

    /// Builds a fresh environment behind a [-1, 1]^d action interface, as policies need.
    public static func makeUnitActionEnvironment(
        name: String, maxEpisodeSteps: Int? = nil
    ) throws(EnvironmentError) -> any Environment {
        rescaled(try makeEnvironment(name: name, maxEpisodeSteps: maxEpisodeSteps))
    }

    /// Wraps an environment of any concrete type; the existential argument is opened here.
    private static func rescaled<E: Environment>(_ environment: E) -> any Environment {
        RescaleAction(environment)
    }
}
