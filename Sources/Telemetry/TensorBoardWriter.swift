#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// Writes scalars and text as a TensorBoard event file, natively.
///
/// The file is `events.out.tfevents.<unix seconds>.<hostname>` in `directory`,
/// TensorBoard's naming, so `tensorboard --logdir` finds it beside the event
/// files of the reference implementation. Records are encoded on the caller's
/// thread (one small protobuf message and two checksums, no I/O) and written
/// by a background thread.
public final class TensorBoardWriter: ScalarLogger {
    /// The event file's full path.
    public let path: String
    private let file: BackgroundFileWriter

    /// Creates `directory` if needed and opens a new event file in it.
    ///
    /// - Parameter flushInterval: how long a logged value may sit in memory
    ///   before it is written; TensorBoard polls files, so seconds are plenty.
    public init(directory: String, flushInterval: Duration = .seconds(5)) throws(TelemetryError) {
        try createDirectory(directory)
        let now = Date().timeIntervalSince1970
        file = try BackgroundFileWriter(
            newFileAt: "\(directory)/events.out.tfevents.\(Int(now)).\(hostName())", flushInterval: flushInterval)
        path = file.path
        var header: [UInt8] = []
        TFRecord.write(TensorBoardEvent.fileVersion(wallTime: now), into: &header)
        file.append(header)
    }

    public func log(tag: String, value: Float, step: Int) {
        appendRecord(TensorBoardEvent.scalar(tag: tag, value: value, step: step, wallTime: wallTime()))
    }

    public func text(tag: String, markdown: String, step: Int) {
        appendRecord(TensorBoardEvent.text(tag: tag, markdown: markdown, step: step, wallTime: wallTime()))
    }

    public func flush() throws(TelemetryError) {
        try file.flush()
    }

    public func close() throws(TelemetryError) {
        try file.close()
    }

    /// Values dropped because the disk could not keep up (see `BackgroundFileWriter`).
    public var droppedRecords: Int { file.currentStatistics.droppedAppends }

    deinit {
        try? file.close()
    }

    private func appendRecord(_ payload: [UInt8]) {
        var record: [UInt8] = []
        record.reserveCapacity(payload.count + TFRecord.overhead)
        TFRecord.write(payload, into: &record)
        file.append(record)
    }

    private func wallTime() -> Double {
        Date().timeIntervalSince1970
    }
}

/// Creates `path` and its parents if they are missing.
func createDirectory(_ path: String) throws(TelemetryError) {
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        throw .cannotCreateDirectory(path: path, reason: "\(error.localizedDescription)")
    }
}

/// This machine's host name, as TensorBoard puts it in event file names.
func hostName() -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
    let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
    let name = String(decoding: bytes, as: UTF8.self)
    return name.isEmpty ? "localhost" : name
}
