import Replay

/// Errors from setting up or running a training or evaluation run.
public enum LearningError: Error, Equatable, CustomStringConvertible {
    /// The run directory already holds a run; the trainer never mixes two runs' metrics.
    case runDirectoryInUse(path: String)
    /// A file in the run directory could not be created or written.
    case cannotWrite(path: String, reason: String)
    /// A file the command needs does not exist.
    case fileNotFound(path: String)
    /// A config.json could not be decoded.
    case invalidConfigFile(path: String, reason: String)
    /// The environment's actions are not [-1, 1]^d, so the policy's actions would be misread.
    case actionsNotUnitBox(String)
    /// Replay could not be allocated or filled.
    case replay(ReplayError)
    /// A saved policy cannot be read or does not fit; `reason` says what is wrong with it.
    case unusablePolicy(path: String, reason: String)

    public var description: String {
        switch self {
        case let .runDirectoryInUse(path):
            "run directory \(path) already holds a run (metrics.csv); choose another --run-dir or pass --overwrite"
        case let .cannotWrite(path, reason):
            "cannot write \(path) (\(reason)); check the path and its permissions, or choose another --run-dir"
        case let .fileNotFound(path):
            "\(path) does not exist; check the path"
        case let .invalidConfigFile(path, reason):
            "\(path) is not a MEow config (\(reason)); fix or remove the file"
        case let .actionsNotUnitBox(space):
            "the trainer needs an environment with [-1, 1] actions (wrap it in RescaleAction), got \(space)"
        case let .replay(error):
            error.description
        case let .unusablePolicy(path, reason):
            "policy \(path) cannot be used: \(reason)"
        }
    }
}
