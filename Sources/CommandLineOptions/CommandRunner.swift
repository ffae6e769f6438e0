import ArgumentParser
import Foundation
import Learning

/// The entry point the distributed executables share: parsing, and turning SIGINT/SIGTERM
/// into one clean-stop request. `--config FILE` is an ordinary option: each command reads
/// the file through Learning's `ConfigFile` (docs/configuration.md).
public enum CommandRunner {
    /// Parses `command` from the process arguments and runs it.
    public static func main<Command: AsyncParsableCommand>(_ command: Command.Type) async {
        do {
            let parsed = try Command.parseAsRoot(Array(CommandLine.arguments.dropFirst()))
            if var runnable = parsed as? Command {
                try await runnable.run()
            } else {
                var other = parsed
                try other.run()
            }
        } catch {
            Command.exit(withError: error)
        }
    }

    /// Runs `body`; the first SIGINT or SIGTERM meanwhile calls `onStop` once (a second one
    /// kills the process, for a run that hangs).
    public static func withStopSignal<T>(_ onStop: @escaping @Sendable () -> Void,
                                         _ body: () async throws -> T) async throws -> T {
        let stop = StopFlag()
        let handlers = stop.installSignalHandlers()
        defer { handlers.cancel() }
        let watcher = Task {
            await stop.wait()
            if stop.isSet { onStop() }
        }
        defer { watcher.cancel() }
        return try await body()
    }
}

/// Runs a configuration step, turning its `ConfigurationError` into the parser's one-sentence
/// usage error (printed without a stack of context, exit status 64).
public func configured<T>(_ body: () throws(ConfigurationError) -> T) throws -> T {
    do {
        return try body()
    } catch {
        throw ValidationError(error.description)
    }
}
