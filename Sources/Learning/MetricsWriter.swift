import Foundation

/// Appends `step,tag,value` rows to a CSV file through an in-memory buffer.
///
/// Rows accumulate in memory and reach the file when the buffer passes
/// `flushThreshold` bytes, on `flush()`, and on `close()`; the trainer flushes on a
/// timer too, so a killed run loses at most a few seconds of rows and a clean exit
/// loses none. Values print with Swift's shortest round-trip formatting, so a seeded
/// run writes byte-identical rows.
final class MetricsWriter {
    static let header = "step,tag,value\n"

    let url: URL
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private let flushThreshold: Int
    private var closed = false

    /// Creates (or truncates) the file and writes the header.
    init(url: URL, flushThreshold: Int = 1 << 16) throws(LearningError) {
        self.url = url
        self.flushThreshold = flushThreshold
        guard FileManager.default.createFile(atPath: url.path, contents: Data(Self.header.utf8)) else {
            throw .cannotWrite(path: url.path, reason: "the file could not be created")
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.seekToEnd()
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
        buffer.reserveCapacity(flushThreshold + 256)
    }

    deinit {
        try? close()
    }

    func record(step: Int, tag: String, value: Double) {
        append(step: step, tag: tag, formatted: "\(value)")
    }

    /// Counts print without a fractional part.
    func record(step: Int, tag: String, value: Int) {
        append(step: step, tag: tag, formatted: "\(value)")
    }

    /// Float values print as Float, so 0.2 reads "0.2", not "0.20000000298023224".
    func record(step: Int, tag: String, value: Float) {
        append(step: step, tag: tag, formatted: "\(value)")
    }

    private func append(step: Int, tag: String, formatted: String) {
        buffer.append(contentsOf: "\(step),\(tag),\(formatted)\n".utf8)
        if buffer.count >= flushThreshold { try? flush() }
    }

    /// Writes buffered rows to the file.
    func flush() throws(LearningError) {
        guard !buffer.isEmpty, !closed else { return }
        do {
            try handle.write(contentsOf: buffer)
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Flushes and closes the file; later records are dropped.
    func close() throws(LearningError) {
        guard !closed else { return }
        try flush()
        closed = true
        try? handle.close()
    }
}

extension MetricsWriter {
    /// The loss-type scalars of one update, named as the reference code names them.
    ///
    /// Shared by the single-process trainer and the learner service so their curves overlay.
    func record(update s: UpdateStatistics, alpha: Float, skippedUpdates: Int, step: Int) {
        record(step: step, tag: "losses/qf_loss", value: s.loss)
        record(step: step, tag: "losses/alpha", value: alpha)
        record(step: step, tag: "losses/grad_norm", value: s.gradientNorm)
        record(step: step, tag: "values/q", value: s.meanQ)
        record(step: step, tag: "values/target_v", value: s.meanTargetV)
        record(step: step, tag: "values/log_sigma_mean", value: s.meanLogSigma)
        record(step: step, tag: "values/log_sigma_min", value: s.minLogSigma)
        record(step: step, tag: "values/log_sigma_max", value: s.maxLogSigma)
        record(step: step, tag: "charts/skipped_updates", value: skippedUpdates)
    }
}
