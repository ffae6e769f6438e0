import ArgumentParser
import Foundation
import Learning
import MEow

/// `meow`: train MEow on a built-in environment in one process, and evaluate saved policies.
@main
struct MeowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meow",
        abstract: "MEow (maximum-entropy RL with an energy-based normalizing flow), single process.",
        version: MEowVersion.current,
        subcommands: [TrainCommand.self, EvaluateCommand.self, ActCommand.self, MultiGoalCheckCommand.self,
                      ConfigCommand.self, ModelCommand.self])
}

/// Runs a Learning configuration step, turning its error into the parser's one-line usage error.
func resolve(_ body: () throws(ConfigurationError) -> ResolvedConfiguration) throws -> ResolvedConfiguration {
    do {
        return try body()
    } catch {
        throw ValidationError(error.description)
    }
}
