import Logging
import Synchronization

/// A `Logger` whose lines a test reads back (level and text), shared by every copy of the logger.
final class CapturedLog: Sendable {
    private let store = Mutex<[(level: Logger.Level, text: String)]>([])

    var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    var lines: [(level: Logger.Level, text: String)] { store.withLock { $0 } }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.store.withLock { $0.append((event.level, event.message.description)) }
        }
    }
}
