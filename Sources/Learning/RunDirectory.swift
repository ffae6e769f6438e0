import Foundation

/// The files a training run writes, by name.
public enum RunFiles {
    /// The effective `MEowConfig` as JSON, written before the first step.
    public static let config = "config.json"
    /// `step,tag,value` rows, tags named as the reference code names them.
    public static let metrics = "metrics.csv"
    /// The final online policy (`savePolicy`).
    public static let policy = "policy.safetensors"
    /// The `TrainingSummary` as JSON, written after the last step.
    public static let summary = "summary.json"
}

/// Creates a run directory, refusing one that already holds a run unless told to overwrite.
enum RunDirectory {
    static func prepare(_ directory: URL, overwrite: Bool) throws(LearningError) {
        let fileManager = FileManager.default
        let metrics = directory.appendingPathComponent(RunFiles.metrics)
        if !overwrite && fileManager.fileExists(atPath: metrics.path) {
            throw .runDirectoryInUse(path: directory.path)
        }
        do {
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: directory.path, reason: error.localizedDescription)
        }
    }

    /// Writes `value` as pretty JSON with sorted keys (stable diffs between runs).
    static func writeJSON(_ value: some Encodable, to url: URL) throws(LearningError) {
        do {
            try encodeJSON(value).write(to: url, options: .atomic)
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
    }

    static func encodeJSON(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(value)
    }
}
