#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An append-only file whose writes happen on a thread of its own.
///
/// `append` only copies bytes into memory under a lock, so the training thread
/// never waits on the disk. The writer thread wakes every `flushInterval`, when
/// the buffer passes `eagerWriteBytes`, and on `flush()`/`close()`. If the disk
/// stalls long enough for `maxPendingBytes` to fill, further appends are
/// dropped and counted rather than growing memory without bound.
final class BackgroundFileWriter: @unchecked Sendable {  // Mutable fields are guarded by `condition` (a timed wait needs NSCondition).

    /// What a caller wants to know after the fact.
    struct Statistics: Equatable, Sendable {
        var bytesWritten = 0
        var droppedAppends = 0
    }

    let path: String
    private let descriptor: Int32
    private let flushInterval: Duration
    private let maxPendingBytes: Int
    private let eagerWriteBytes: Int

    private let condition = NSCondition()
    private var pending: [UInt8] = []
    /// Appends accepted so far, and appends the writer has put on disk.
    private var appendedCount = 0
    private var writtenCount = 0
    private var flushRequested = false
    private var closing = false
    private var writerExited = false
    private var failure: TelemetryError?
    private var statistics = Statistics()

    /// Opens (creating) `path` for appending and starts the writer thread.
    convenience init(path: String, flushInterval: Duration) throws(TelemetryError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpenFile(path: path, reason: errnoDescription()) }
        self.init(descriptor: fd, path: path, flushInterval: flushInterval)
    }

    /// Creates a new file at `base`, or at `base.1`, `base.2`, ... if that exists, and starts the writer thread.
    ///
    /// Event files are never shared: two writers started within one second in
    /// one directory would otherwise pick the same name.
    convenience init(newFileAt base: String, flushInterval: Duration) throws(TelemetryError) {
        for attempt in 0..<100 {
            let candidate = attempt == 0 ? base : "\(base).\(attempt)"
            let fd = open(candidate, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0o644)
            if fd >= 0 {
                self.init(descriptor: fd, path: candidate, flushInterval: flushInterval)
                return
            }
            if errno != EEXIST { throw .cannotOpenFile(path: candidate, reason: errnoDescription()) }
        }
        throw .cannotOpenFile(path: base, reason: "100 files with this name already exist")
    }

    /// Takes ownership of an open descriptor and starts the writer thread.
    init(
        descriptor: Int32, path: String, flushInterval: Duration,
        maxPendingBytes: Int = 64 << 20, eagerWriteBytes: Int = 1 << 20
    ) {
        self.path = path
        self.descriptor = descriptor
        self.flushInterval = flushInterval
        self.maxPendingBytes = maxPendingBytes
        self.eagerWriteBytes = eagerWriteBytes
        let thread = Thread { [self] in runWriter() }
        thread.name = "telemetry-writer"
        thread.start()
    }

    /// Whether the file on disk is empty now (a new file, before the first write).
    var fileIsEmpty: Bool {
        var info = stat()
        return fstat(descriptor, &info) == 0 && info.st_size == 0
    }

    /// Queues `bytes`; returns false if they were dropped (closed, or the buffer is full).
    @discardableResult
    func append(_ bytes: [UInt8]) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !closing, pending.count + bytes.count <= maxPendingBytes else {
            statistics.droppedAppends += 1
            return false
        }
        pending.append(contentsOf: bytes)
        appendedCount += 1
        if pending.count >= eagerWriteBytes { condition.broadcast() }
        return true
    }

    /// Blocks until everything appended before the call is written; throws the first write failure.
    func flush() throws(TelemetryError) {
        condition.lock()
        defer { condition.unlock() }
        let target = appendedCount
        flushRequested = true
        condition.broadcast()
        while writtenCount < target && !writerExited { condition.wait() }
        if let failure { throw failure }
    }

    /// Writes what is pending, stops the thread and closes the file; later calls return the same outcome.
    func close() throws(TelemetryError) {
        condition.lock()
        let firstClose = !closing
        closing = true
        condition.broadcast()
        while !writerExited { condition.wait() }
        let failure = self.failure
        condition.unlock()
        if firstClose { _ = closeDescriptor(descriptor) }
        if let failure { throw failure }
    }

    var currentStatistics: Statistics {
        condition.lock()
        defer { condition.unlock() }
        return statistics
    }

    // MARK: - The writer thread

    private func runWriter() {
        condition.lock()
        while true {
            let deadline = Date(timeIntervalSinceNow: flushInterval.seconds)
            while !closing && !flushRequested && pending.count < eagerWriteBytes {
                // Timed wait: the flush period (`flushInterval`); a full buffer, flush() and close() signal early.
                if !condition.wait(until: deadline) { break }
            }
            flushRequested = false
            let batch = pending
            let batchEnd = appendedCount
            pending.removeAll(keepingCapacity: true)
            let finishing = closing
            condition.unlock()

            let outcome = batch.isEmpty ? nil : writeFully(batch)

            condition.lock()
            if let outcome, failure == nil { failure = outcome }
            if outcome == nil { statistics.bytesWritten += batch.count }
            writtenCount = batchEnd
            condition.broadcast()
            if finishing && pending.isEmpty { break }
        }
        writerExited = true
        condition.broadcast()
        condition.unlock()
    }

    /// Writes all of `bytes`, retrying partial writes and interruptions.
    private func writeFully(_ bytes: [UInt8]) -> TelemetryError? {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return .writeFailed(path: path, reason: errnoDescription())
                }
                offset += written
            }
            return nil
        }
    }
}

/// `close(2)`, named apart from the `close()` methods that need it.
func closeDescriptor(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}

/// The text of the current `errno`.
func errnoDescription() -> String {
    String(cString: strerror(errno))
}
