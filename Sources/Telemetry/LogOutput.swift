import Foundation
import Logging
import Synchronization

/// The process's log handler: one line per message on stderr,
/// `2026-12-07T12:00:00.123Z info meow.learner: message [key=value]`.
///
/// Timestamps are ISO 8601 in UTC with milliseconds, so the lines of a learner and its actors
/// on different hosts sort together. Each line is one `write(2)`, so lines from different
/// threads never interleave within a line. stdout is left to results (a command's answer,
/// `meow act`'s JSON lines).
public struct LogLineHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        let line = LogLine.format(time: Date(), level: event.level, label: label,
                                  message: event.message.description, metadata: merged)
        LogLine.writeToStandardError(line)
    }
}

/// The text of one log line; pure, so the format is tested without a process.
public enum LogLine {
    /// `timestamp level label: message [metadata]`, metadata sorted by key and left out when empty.
    public static func format(time: Date, level: Logger.Level, label: String, message: String,
                              metadata: Logger.Metadata = [:]) -> String {
        var line = "\(timestamp(time)) \(level.rawValue) \(label): \(message)"
        if !metadata.isEmpty {
            line += " [" + metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "]"
        }
        return line
    }

    /// ISO 8601 in UTC with milliseconds, e.g. `2026-12-07T12:00:00.123Z`.
    public static func timestamp(_ time: Date) -> String {
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(milliseconds.quotientAndRemainder(dividingBy: 1000).quotient)
        let fraction = Int(milliseconds - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), fraction)
    }

    static func writeToStandardError(_ line: String) {
        var bytes = Array((line + "\n").utf8)
        bytes.withUnsafeMutableBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(STDERR_FILENO, buffer.baseAddress! + offset, buffer.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return  // stderr is gone; a log line is not worth a crash
                }
            }
        }
    }
}

/// Installs `LogLineHandler` as the process's log handler, once.
///
/// swift-log allows one bootstrap per process and a `Logger` keeps the handler it was made with,
/// so executables bootstrap first thing in `run()` (`LogOptions.bootstrap`) and make their loggers
/// after it. Later calls change nothing, so tests and subcommands may call it freely.
public enum LogBootstrap {
    private static let installed = Mutex<Logger.Level?>(nil)

    /// The levels by name, as `--log-level` and `MEOW_LOG_LEVEL` spell them.
    public static let levelNames = Logger.Level.allCases.map(\.rawValue)

    /// Installs the handler at `level` unless one is installed; returns the level in effect.
    @discardableResult
    public static func bootstrap(level: Logger.Level) -> Logger.Level {
        installed.withLock { current in
            if let current { return current }
            LoggingSystem.bootstrap { label in LogLineHandler(label: label, level: level) }
            current = level
            return level
        }
    }

    /// The level named `text` (any case), or nil.
    public static func level(named text: String) -> Logger.Level? {
        Logger.Level(rawValue: text.lowercased())
    }
}
