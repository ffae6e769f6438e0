import ArgumentParser
import Foundation
import Logging
import Telemetry

/// `--log-level`, over the `MEOW_LOG_LEVEL` environment variable: what every executable logs to stderr.
public struct LogOptions: ParsableArguments, Sendable {
    @Option(help: "Least severe level logged to stderr: \(LogBootstrap.levelNames.joined(separator: ", ")) (default: MEOW_LOG_LEVEL, else info).")
    public var logLevel: String?

    public init() {}

    public func validate() throws {
        _ = try level()
    }

    /// The flag's level, else `MEOW_LOG_LEVEL`'s, else info.
    public func level(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Logger.Level {
        let names = LogBootstrap.levelNames.joined(separator: ", ")
        if let logLevel {
            guard let level = LogBootstrap.level(named: logLevel) else {
                throw ValidationError("Invalid --log-level '\(logLevel)': expected one of \(names); change --log-level.")
            }
            return level
        }
        if let text = environment["MEOW_LOG_LEVEL"], !text.isEmpty {
            guard let level = LogBootstrap.level(named: text) else {
                throw ValidationError(
                    "Invalid MEOW_LOG_LEVEL '\(text)': expected one of \(names); change or unset MEOW_LOG_LEVEL.")
            }
            return level
        }
        return .info
    }

    /// Installs the process's log handler at this level (the first call in a process wins) and
    /// returns a logger labelled `label`, made after the handler so that it writes through it.
    public func bootstrap(label: String) -> Logger {
        LogBootstrap.bootstrap(level: (try? level()) ?? .info)
        return Logger(label: label)
    }
}
