#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NN

/// The files a training run writes, by name.
public enum RunFiles {
    /// The effective configuration as a config file (`--config` reads it back), written before the first step.
    public static let config = "config.json"
    /// `step,tag,value` rows, tags named as the reference code names them (Telemetry's CSVScalarWriter).
    public static let metrics = "metrics.csv"
    /// TensorBoard event files start with this; a resumed session adds a new one.
    public static let eventFilePrefix = "events.out.tfevents."
    /// Checkpoints, `latest` and `best` (docs/checkpoints.md).
    public static let checkpoints = "checkpoints"
    /// The final online policy (`savePolicy`).
    public static let policy = "policy.safetensors"
    /// The `TrainingSummary` as JSON, written after the last step.
    public static let summary = "summary.json"
}

/// Creates run directories, refusing one that already holds a run unless told to overwrite.
public enum RunDirectory {
    /// runs/<env>__<exp-name>__<seed>__<yyyyMMdd-HHmmss> (local time), CleanRL's run-name pattern.
    public static func defaultPath(environment: String, expName: String, seed: UInt64, date: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "runs/\(environment)__\(expName)__\(seed)__\(formatter.string(from: date))"
    }

    static func prepare(_ directory: URL, overwrite: Bool) throws(LearningError) {
        let fileManager = FileManager.default
        let previous = [RunFiles.metrics, RunFiles.checkpoints].map { directory.appendingPathComponent($0) }
        if previous.contains(where: { fileManager.fileExists(atPath: $0.path) }) {
            guard overwrite else { throw .runDirectoryInUse(path: directory.path) }
            // A fresh run must not append to the old curves or resume from the old checkpoints.
            let names = (try? fileManager.contentsOfDirectory(atPath: directory.path)) ?? []
            for name in names
            where name.hasPrefix(RunFiles.eventFilePrefix)
                || [RunFiles.metrics, RunFiles.checkpoints, RunFiles.summary, RunFiles.policy].contains(name) {
                do {
                    try fileManager.removeItem(at: directory.appendingPathComponent(name))
                } catch {
                    throw .cannotWrite(path: directory.appendingPathComponent(name).path, reason: fileErrorReason(error))
                }
            }
        }
        do {
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: directory.path, reason: fileErrorReason(error))
        }
    }

    /// Cuts metrics.csv back to its size at the checkpoint, dropping rows a later session logged.
    ///
    /// Those rows are logged again, identically, as the resumed run retraces the steps.
    static func prepareForResume(_ directory: URL, metricsBytes: Int?) throws(LearningError) {
        let metrics = directory.appendingPathComponent(RunFiles.metrics).path
        guard let metricsBytes,
              let size = (try? FileManager.default.attributesOfItem(atPath: metrics))?[.size] as? NSNumber,
              size.intValue > metricsBytes else { return }
        if truncate(metrics, off_t(metricsBytes)) != 0 {
            throw .cannotWrite(path: metrics, reason: "truncate: \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `text` atomically.
    static func write(_ text: String, to url: URL) throws(LearningError) {
        do {
            try Data(text.utf8).write(to: url, options: .atomic)
        } catch {
            throw .cannotWrite(path: url.path, reason: fileErrorReason(error))
        }
    }

    /// Writes `value` as pretty JSON with sorted keys (stable diffs between runs).
    static func writeJSON(_ value: some Encodable, to url: URL) throws(LearningError) {
        do {
            try encodeJSON(value).write(to: url, options: .atomic)
        } catch {
            throw .cannotWrite(path: url.path, reason: fileErrorReason(error))
        }
    }

    static func encodeJSON(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }
}
