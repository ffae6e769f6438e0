/// Somewhere training curves go: TensorBoard, a CSV file, or several at once.
///
/// `log` and `text` only append to memory and never throw, so any thread of
/// the learner may call them between updates at no measurable cost; files are
/// written by a background thread. `flush()` and `close()` are where write
/// failures surface. Tags are the names in `MetricName`.
public protocol ScalarLogger: Sendable {
    /// Records `value` for `tag` at `step` (environment steps, as CleanRL counts them).
    func log(tag: String, value: Float, step: Int)

    /// Records a markdown text (the run's hyperparameters, say); sinks that hold only numbers ignore it.
    func text(tag: String, markdown: String, step: Int)

    /// Blocks until everything logged before the call is on disk.
    func flush() throws(TelemetryError)

    /// Writes what is buffered and releases the file; later calls do nothing new.
    func close() throws(TelemetryError)
}

extension ScalarLogger {
    /// Records a Double metric; event files and the CSV both hold 32-bit floats.
    public func log(tag: String, value: Double, step: Int) {
        log(tag: tag, value: Float(value), step: step)
    }

    /// Records the run's configuration as a markdown table under `MetricName.hyperparameters`.
    public func hyperparameters(_ pairs: [(name: String, value: String)]) {
        text(tag: MetricName.hyperparameters, markdown: HyperparameterTable.markdown(pairs), step: 0)
    }
}

/// The markdown table CleanRL writes for its hyperparameters, so runs read alike.
public enum HyperparameterTable {
    /// `|param|value|` rows; pipes and newlines in values are escaped so the table stays one row per pair.
    public static func markdown(_ pairs: [(name: String, value: String)]) -> String {
        var lines = ["|param|value|", "|-|-|"]
        for (name, value) in pairs { lines.append("|\(escape(name))|\(escape(value))|") }
        return lines.joined(separator: "\n")
    }

    private static func escape(_ cell: String) -> String {
        cell.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ")
    }
}

/// Logs to several loggers: the usual TensorBoard-plus-CSV pair.
public struct FanOutLogger: ScalarLogger {
    public let loggers: [any ScalarLogger]

    public init(_ loggers: [any ScalarLogger]) {
        self.loggers = loggers
    }

    public func log(tag: String, value: Float, step: Int) {
        for logger in loggers { logger.log(tag: tag, value: value, step: step) }
    }

    public func text(tag: String, markdown: String, step: Int) {
        for logger in loggers { logger.text(tag: tag, markdown: markdown, step: step) }
    }

    /// Flushes every logger, even after one fails, and throws the first failure.
    public func flush() throws(TelemetryError) {
        try forEachReportingFirstFailure { logger throws(TelemetryError) in try logger.flush() }
    }

    /// Closes every logger, even after one fails, and throws the first failure.
    public func close() throws(TelemetryError) {
        try forEachReportingFirstFailure { logger throws(TelemetryError) in try logger.close() }
    }

    private func forEachReportingFirstFailure(
        _ body: (any ScalarLogger) throws(TelemetryError) -> Void
    ) throws(TelemetryError) {
        var firstFailure: TelemetryError?
        for logger in loggers {
            do throws(TelemetryError) { try body(logger) } catch { firstFailure = firstFailure ?? error }
        }
        if let firstFailure { throw firstFailure }
    }
}
