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

/// Prints one line to stderr, where logs go; stdout carries results.
func log(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Runs a Learning configuration step, turning its error into the parser's one-line usage error.
func resolve(_ body: () throws(ConfigurationError) -> ResolvedConfiguration) throws -> ResolvedConfiguration {
    do {
        return try body()
    } catch {
        throw ValidationError(error.description)
    }
}
