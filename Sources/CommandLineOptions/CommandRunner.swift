import ArgumentParser
import Foundation
import Learning

/// The entry point the distributed executables share: `--config` expansion, parsing, and
/// turning SIGINT/SIGTERM into one clean-stop request.
public enum CommandRunner {
    /// Parses `command` from the process arguments (a `--config` file's flags first) and runs it.
    public static func main<Command: AsyncParsableCommand>(_ command: Command.Type) async {
        do {
            let parsed = try Command.parseAsRoot(try ConfigFile.expand(Array(CommandLine.arguments.dropFirst())))
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
            while !Task.isCancelled {
                if stop.isSet {
                    onStop()
                    return
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
        }
        defer { watcher.cancel() }
        return try await body()
    }
}

/// Writes one line to stderr, where logs go; stdout carries results.
public let standardErrorLog: @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
