#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Foundation
import Logging
import NN
import Simulators
import Synchronization
import Telemetry
import Wire

/// Why the write-ahead log could not make a record durable, or could not be read back.
public enum WriteAheadLogError: Error, Equatable, CustomStringConvertible {
    /// A segment could not be created or opened.
    case open(path: String, reason: String)
    /// `write` failed (a full disk: ENOSPC) or wrote short.
    case write(path: String, reason: String)
    /// `fdatasync` failed: what was written may not be on disk.
    case sync(path: String, reason: String)
    /// The log is closed (the learner is stopping).
    case closed
    /// A record in the middle of the log does not read back: not a torn tail, real damage.
    case corrupt(path: String, reason: String)

    public var description: String {
        switch self {
        case let .open(path, reason): "cannot open the write-ahead log segment \(path): \(reason)"
        case let .write(path, reason): "cannot write the write-ahead log segment \(path): \(reason)"
        case let .sync(path, reason): "cannot fdatasync the write-ahead log segment \(path): \(reason)"
        case .closed: "the write-ahead log is closed"
        case let .corrupt(path, reason):
            "the write-ahead log segment \(path) is corrupted (\(reason)); move the run's wal/ directory aside to "
                + "resume from the checkpoint alone"
        }
    }
}

/// One entry of the write-ahead log.
public enum LogRecord: Sendable, Equatable {
    /// A batch for replay. `marked`: an actor's TRANSITIONS, whose (peer, seq) the dedupe
    /// ledger learns back; a simulator's transitions carry no sequence number.
    case batch(Wire.TransitionBatch, marked: Bool)
    /// A batch acknowledged but not stored (dropped as stale): only its (peer, seq).
    case mark(PeerKey, seq: UInt64)

    /// Transitions the record adds to replay.
    public var transitions: Int {
        if case .batch(let batch, _) = self { return batch.count }
        return 0
    }

    /// The (peer, seq) the dedupe ledger learns from the record, if any.
    public var seen: (key: PeerKey, seq: UInt64)? {
        switch self {
        case .batch(let batch, true): (PeerKey(actorID: batch.actorID, runID: batch.runID), batch.seq)
        case .batch: nil
        case .mark(let key, let seq): (key, seq)
        }
    }
}

/// The on-disk form of a record: `u32 length, u32 CRC-32C of the body, body` (little-endian).
///
/// The body is `u8 kind, u64 first ordinal` and the kind's fields. A batch's ordinal numbers its
/// first transition among all transitions the run logged, so recovery knows which of them
/// replay still holds without trusting file names.
enum LogRecordCodec {
    static let headerBytes = 8
    /// Most bytes one body may have; a longer length field is damage, not a record.
    static let maxBodyBytes = 1 << 30

    private enum Kind: UInt8 {
        case markedBatch = 1
        case simulatorBatch = 2
        case mark = 3
    }

    /// Appends one framed record: a placeholder header, the body, then the header patched.
    static func encode(_ record: LogRecord, ordinal: UInt64, into writer: inout WireWriter) {
        let start = writer.bytes.count
        writer.writeUInt32LE(0)
        writer.writeUInt32LE(0)
        switch record {
        case .batch(let batch, let marked):
            writer.writeUInt8(marked ? Kind.markedBatch.rawValue : Kind.simulatorBatch.rawValue)
            writer.writeUInt64LE(ordinal)
            writer.writeUInt32LE(batch.actorID)
            writer.writeUInt64LE(batch.runID)
            writer.writeUInt64LE(batch.seq)
            writer.writeUInt64LE(batch.policyVersion)
            writer.writeUInt32LE(UInt32(batch.observationSize))
            writer.writeUInt32LE(UInt32(batch.actionSize))
            writer.writeUInt32LE(UInt32(batch.count))
            writer.writeUInt64ColumnLE(batch.episodeIDs)
            writer.writeUInt32ColumnLE(batch.stepIndices)
            writer.writeFloat32ColumnLE(batch.observations)
            writer.writeFloat32ColumnLE(batch.nextObservations)
            writer.writeFloat32ColumnLE(batch.actions)
            writer.writeFloat32ColumnLE(batch.rewards)
            writer.writeBytes(batch.doneFlags)
        case .mark(let key, let seq):
            writer.writeUInt8(Kind.mark.rawValue)
            writer.writeUInt64LE(ordinal)
            writer.writeUInt32LE(key.actorID)
            writer.writeUInt64LE(key.runID)
            writer.writeUInt64LE(seq)
        }
        let body = start + headerBytes ..< writer.bytes.count
        writer.setUInt32LE(UInt32(body.count), at: start)
        writer.setUInt32LE(CRC32C.checksum(writer.bytes[body]), at: start + 4)
    }

    /// Bytes a record takes, for reserving a group's buffer once.
    static func size(of record: LogRecord) -> Int {
        guard case .batch(let batch, _) = record else { return headerBytes + 29 }
        return headerBytes + 49 + batch.count * (17 + 8 * batch.observationSize + 4 * batch.actionSize)
    }

    /// What reading at one offset found.
    enum Read {
        case record(LogRecord, ordinal: UInt64, next: Int)
        /// Fewer bytes than the header or the body need: the tail of a write the crash cut.
        case torn
        /// A whole frame whose checksum or fields do not hold.
        case damaged(String)
    }

    static func read(_ bytes: [UInt8], at offset: Int) -> Read {
        guard bytes.count - offset >= headerBytes else { return .torn }
        let header = WireReader(bytes, range: offset ..< offset + headerBytes)
        guard let length = try? header.getUInt32LE(at: offset), let crc = try? header.getUInt32LE(at: offset + 4) else {
            return .torn
        }
        guard Int(length) <= maxBodyBytes else { return .damaged("a record length of \(length) bytes") }
        let start = offset + headerBytes
        guard bytes.count - start >= Int(length) else { return .torn }
        let range = start ..< start + Int(length)
        guard CRC32C.checksum(bytes[range]) == crc else { return .damaged("CRC-32C mismatch at byte \(offset)") }
        var reader = WireReader(bytes, range: range)
        do throws(WireError) {
            let kind = Kind(rawValue: try reader.readUInt8())
            let ordinal = try reader.readUInt64LE()
            switch kind {
            case .markedBatch, .simulatorBatch:
                let actorID = try reader.readUInt32LE()
                let runID = try reader.readUInt64LE()
                let seq = try reader.readUInt64LE()
                let version = try reader.readUInt64LE()
                let observationSize = Int(try reader.readUInt32LE())
                let actionSize = Int(try reader.readUInt32LE())
                let count = Int(try reader.readUInt32LE())
                guard count * (8 + 4 + 8 * observationSize + 4 * actionSize + 4 + 1) <= Int(length) else {
                    return .damaged("a batch of \(count) transitions does not fit its record")
                }
                let batch = Wire.TransitionBatch(
                    actorID: actorID, runID: runID, seq: seq, policyVersion: version,
                    observationSize: observationSize, actionSize: actionSize,
                    episodeIDs: try reader.readUInt64ColumnLE(count: count),
                    stepIndices: try reader.readUInt32ColumnLE(count: count),
                    observations: try reader.readFloat32ColumnLE(count: count * observationSize),
                    nextObservations: try reader.readFloat32ColumnLE(count: count * observationSize),
                    actions: try reader.readFloat32ColumnLE(count: count * actionSize),
                    rewards: try reader.readFloat32ColumnLE(count: count),
                    doneFlags: try reader.readBytes(count: count))
                return .record(.batch(batch, marked: kind == .markedBatch), ordinal: ordinal, next: range.upperBound)
            case .mark:
                let key = PeerKey(actorID: try reader.readUInt32LE(), runID: try reader.readUInt64LE())
                return .record(.mark(key, seq: try reader.readUInt64LE()), ordinal: ordinal, next: range.upperBound)
            case nil:
                return .damaged("unknown record kind")
            }
        } catch {
            return .damaged("\(error)")
        }
    }
}

// MARK: - Segment files

/// One open segment, appended to by the log's writer thread only.
///
/// A protocol so tests can put a failing disk under the log (`write` throwing ENOSPC).
public protocol LogSegmentFile: Sendable {
    func write(_ bytes: [UInt8]) throws(WriteAheadLogError)
    /// Makes everything written so far durable (`fdatasync`).
    func synchronize() throws(WriteAheadLogError)
    /// Cuts the file back to `size` bytes (after a failed write, so the next one starts clean).
    func truncate(to size: Int)
    func close()
}

/// Creates segment files; `POSIXLogStorage` in the learner.
public protocol LogStorage: Sendable {
    func create(path: String) throws(WriteAheadLogError) -> any LogSegmentFile
}

/// Segments as files: `O_APPEND` writes, `fdatasync`, and an fsync of the directory after a segment is made.
public struct POSIXLogStorage: LogStorage {
    public init() {}

    public func create(path: String) throws(WriteAheadLogError) -> any LogSegmentFile {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .open(path: path, reason: String(cString: strerror(errno))) }
        // The new name must survive a crash too.
        syncDirectory(containing: path)
        return POSIXSegmentFile(descriptor: descriptor, path: path)
    }
}

struct POSIXSegmentFile: LogSegmentFile {
    let descriptor: Int32
    let path: String

    func write(_ bytes: [UInt8]) throws(WriteAheadLogError) {
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .write(path: path, reason: String(cString: strerror(n < 0 ? errno : ENOSPC))) }
            written += n
        }
    }

    func synchronize() throws(WriteAheadLogError) {
        guard fdatasync(descriptor) == 0 else { throw .sync(path: path, reason: String(cString: strerror(errno))) }
    }

    func truncate(to size: Int) { _ = ftruncate(descriptor, off_t(size)) }

    func close() { Glibc.close(descriptor) }
}

// MARK: - Recovery

/// What a run directory's log holds, read back at `--resume`.
public struct RecoveredLog: Sendable {
    /// Every whole record, in log order, with its first transition's ordinal.
    public var records: [(ordinal: UInt64, record: LogRecord)] = []
    /// Transitions the run logged in all (the next ordinal).
    public var transitions: UInt64 = 0
    /// Bytes of a torn last record cut off.
    public var tornBytes = 0
    /// The segments found, oldest first.
    var segments: [WriteAheadLog.Segment] = []

    /// An empty log (a fresh run).
    public init() {}

    /// Records whose transitions include ordinals at or above `start`, those below cut off.
    public func batches(from start: UInt64) -> [Wire.TransitionBatch] {
        records.compactMap { ordinal, record in
            guard case .batch(var batch, _) = record, ordinal + UInt64(batch.count) > start else { return nil }
            if ordinal < start { batch = batch.suffix(Int(ordinal + UInt64(batch.count) - start)) }
            return batch
        }
    }
}

extension Wire.TransitionBatch {
    /// The last `n` transitions.
    func suffix(_ n: Int) -> Wire.TransitionBatch {
        let drop = count - n
        return Wire.TransitionBatch(
            actorID: actorID, runID: runID, seq: seq, policyVersion: policyVersion,
            observationSize: observationSize, actionSize: actionSize,
            episodeIDs: Array(episodeIDs.dropFirst(drop)), stepIndices: Array(stepIndices.dropFirst(drop)),
            observations: Array(observations.dropFirst(drop * observationSize)),
            nextObservations: Array(nextObservations.dropFirst(drop * observationSize)),
            actions: Array(actions.dropFirst(drop * actionSize)), rewards: Array(rewards.dropFirst(drop)),
            doneFlags: Array(doneFlags.dropFirst(drop)))
    }
}

// MARK: - The log

/// The learner's write-ahead log: every batch it acknowledges is on disk first.
///
/// ```
///  handlers ──append(record, completion)──▶ pending ──▶ writer thread: one write + one fdatasync
///                                                        for everything pending, then each completion
/// ```
/// Group commit: whatever arrived while the previous sync ran is written and synced together, so
/// many batches share one `fdatasync`. Completions run on the writer thread, in log order; the
/// learner's completion moves the batch into the ingest queue and resumes the handler waiting to
/// acknowledge it, so the order of the log is the order of replay. A failed write or sync fails
/// every record of its group (the file is cut back to where the group began) and nothing of it is
/// acknowledged; the next group tries again.
///
/// The log is a directory of segments (`segment-000000000001.wal`, …). A session starts a new
/// segment; one that passes `segmentBytes` is closed and the next begun. A segment is deleted once
/// every transition in it has left replay (`retire(below:)`), so the log holds about one replay
/// capacity of transitions plus one segment.
public final class WriteAheadLog: Sendable {
    /// Counters for the stats file and /metrics.
    public struct Stats: Codable, Sendable, Equatable {
        /// Records made durable by this session.
        public var records = 0
        public var transitions = 0
        /// `fdatasync` calls; records / syncs is the group-commit factor.
        public var syncs = 0
        /// Groups that failed to write or sync (their batches were not acknowledged).
        public var failures = 0
        public var lastError: String?
        /// Bytes of the segments on disk, and how many there are.
        public var bytesOnDisk = 0
        public var segments = 0
        public var segmentsRetired = 0
        /// Bytes of a torn last record cut at recovery.
        public var tornBytesCut = 0
        /// The next transition ordinal (transitions the run logged).
        public var nextOrdinal: UInt64 = 0

        public init() {}
    }

    struct Segment: Sendable, Equatable {
        var index: Int
        var path: String
        /// Ordinals `first ..< end` of the transitions in it.
        var first: UInt64
        var end: UInt64
        var bytes: Int
    }

    typealias Completion = @Sendable (Result<UInt64, WriteAheadLogError>) -> Void

    private struct Pending: Sendable {
        let record: LogRecord
        let completion: Completion
    }

    private struct Shared: Sendable {
        var pending: [Pending] = []
        var retireBelow: UInt64 = 0
        var closing = false
        var closed = false
        var stats = Stats()
    }

    public static let directoryName = "wal"
    public let directory: String
    private let shared: Mutex<Shared>
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// Whether `runDirectory` holds a log with at least one segment.
    public static func exists(in runDirectory: String) -> Bool {
        !segmentNames(in: runDirectory + "/" + directoryName).isEmpty
    }

    static func segmentNames(in directory: String) -> [(index: Int, name: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("segment-"), name.hasSuffix(".wal"),
                  let index = Int(name.dropFirst(8).dropLast(4)) else { return nil }
            return (index, name)
        }.sorted { $0.0 < $1.0 }
    }

    /// Reads the log in `runDirectory` back, cutting a torn last record off the file.
    public static func recover(runDirectory: String) throws(WriteAheadLogError) -> RecoveredLog {
        let directory = runDirectory + "/" + directoryName
        var recovered = RecoveredLog()
        let names = segmentNames(in: directory)
        for (position, (index, name)) in names.enumerated() {
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .open(path: path, reason: "cannot read it")
            }
            let bytes = [UInt8](data)
            var offset = 0
            var segmentFirst: UInt64?
            readLoop: while offset < bytes.count {
                switch LogRecordCodec.read(bytes, at: offset) {
                case .record(let record, let ordinal, let next):
                    // Ordinals run on without a gap; the oldest kept record sets where they start.
                    if recovered.records.isEmpty {
                        recovered.transitions = ordinal
                    } else if ordinal != recovered.transitions {
                        throw .corrupt(path: path, reason: "ordinal \(ordinal) where \(recovered.transitions) was next")
                    }
                    if segmentFirst == nil { segmentFirst = recovered.transitions }
                    recovered.records.append((ordinal, record))
                    recovered.transitions = max(recovered.transitions, ordinal + UInt64(record.transitions))
                    offset = next
                case .torn, .damaged:
                    guard position == names.count - 1 else {
                        throw .corrupt(path: path, reason: "a bad record at byte \(offset) before the last segment")
                    }
                    recovered.tornBytes = bytes.count - offset
                    guard truncate(path, off_t(offset)) == 0 else {
                        throw .write(path: path, reason: "cutting the torn tail: \(String(cString: strerror(errno)))")
                    }
                    break readLoop
                }
            }
            recovered.segments.append(Segment(index: index, path: path, first: segmentFirst ?? recovered.transitions,
                                              end: recovered.transitions, bytes: offset))
        }
        return recovered
    }

    /// Opens the log for appending: a new segment after the `recovered` ones (none for a fresh run).
    ///
    /// - Parameters:
    ///   - segmentBytes: a segment past this size is closed and the next begun.
    ///   - logger: where a failed write (an error; the first, then rate-limited with a count) and a
    ///     segment that cannot roll over (a warning) are reported.
    public init(runDirectory: String, recovered: RecoveredLog = RecoveredLog(), segmentBytes: Int = 16 << 20,
                storage: any LogStorage = POSIXLogStorage(), logger: Logger = Logger(label: "meow.learner"))
        throws(WriteAheadLogError) {
        directory = runDirectory + "/" + Self.directoryName
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .open(path: directory, reason: fileErrorReason(error))
        }
        var segments = recovered.segments
        let index = (segments.last?.index ?? 0) + 1
        let path = directory + "/" + String(format: "segment-%012d.wal", index)
        let file = try storage.create(path: path)
        segments.append(Segment(index: index, path: path, first: recovered.transitions, end: recovered.transitions,
                                bytes: 0))
        var stats = Stats()
        stats.tornBytesCut = recovered.tornBytes
        stats.nextOrdinal = recovered.transitions
        stats.segments = segments.count
        stats.bytesOnDisk = segments.reduce(0) { $0 + $1.bytes }
        shared = Mutex(Shared(stats: stats))
        let writer = Writer(segments: segments, file: file, storage: storage, segmentBytes: segmentBytes,
                            nextOrdinal: recovered.transitions, logger: logger)
        let thread = Thread { [self] in
            var writer = writer
            run(&writer)
            finished.signal()
        }
        thread.name = "meow-learner-wal"
        thread.start()
    }

    /// Queues `record`; `completion` runs on the writer thread once it is durable (with its first
    /// ordinal) or failed. Records complete in the order they were appended.
    public func append(_ record: LogRecord,
                       completion: @escaping @Sendable (Result<UInt64, WriteAheadLogError>) -> Void) {
        let accepted = shared.withLock { state -> Bool in
            guard !state.closing else { return false }
            state.pending.append(Pending(record: record, completion: completion))
            return true
        }
        if accepted { wake.signal() } else { completion(.failure(.closed)) }
    }

    /// Appends `record` and returns once it is durable.
    public func append(_ record: LogRecord) async throws(WriteAheadLogError) -> UInt64 {
        let result = await withCheckedContinuation { continuation in
            append(record) { continuation.resume(returning: $0) }
        }
        return try result.get()
    }

    /// Lets segments go whose every transition has an ordinal below `ordinal` (they left replay,
    /// or a checkpoint's replay snapshot holds them).
    public func retire(below ordinal: UInt64) {
        let raised = shared.withLock { state -> Bool in
            guard ordinal > state.retireBelow else { return false }
            state.retireBelow = ordinal
            return true
        }
        if raised { wake.signal() }
    }

    public var stats: Stats { shared.withLock { $0.stats } }

    /// Writes what is pending, then stops the writer thread and closes the segment.
    public func close() {
        let first = shared.withLock { state -> Bool in
            defer { state.closing = true }
            return !state.closing
        }
        guard first else { return }
        wake.signal()
        finished.wait()
    }

    // MARK: - Writer thread

    /// The writer thread's own state: the open segment and the list of segments.
    private struct Writer {
        var segments: [Segment]
        var file: any LogSegmentFile
        let storage: any LogStorage
        let segmentBytes: Int
        var nextOrdinal: UInt64
        let logger: Logger
        var failureLog = RepeatLimiter(every: .max, interval: .seconds(10))
        var retired = 0
    }

    private func run(_ writer: inout Writer) {
        while true {
            wake.wait()
            let (group, retireBelow, closing) = shared.withLock { state in
                defer { state.pending.removeAll(keepingCapacity: true) }
                return (state.pending, state.retireBelow, state.closing)
            }
            retire(below: retireBelow, &writer)
            if !group.isEmpty { commit(group, &writer) }
            if closing && shared.withLock({ $0.pending.isEmpty }) { break }
        }
        writer.file.close()
        let orphans = shared.withLock { state in
            defer { state.pending = [] }
            state.closed = true
            return state.pending
        }
        for pending in orphans { pending.completion(.failure(.closed)) }
    }

    /// Writes one group with one write and one fdatasync, then completes it.
    private func commit(_ group: [Pending], _ writer: inout Writer) {
        var encoder = WireWriter(capacity: group.reduce(0) { $0 + LogRecordCodec.size(of: $1.record) })
        var ordinals: [UInt64] = []
        var ordinal = writer.nextOrdinal
        for pending in group {
            ordinals.append(ordinal)
            LogRecordCodec.encode(pending.record, ordinal: ordinal, into: &encoder)
            ordinal += UInt64(pending.record.transitions)
        }
        let bytes = encoder.bytes
        let before = writer.segments[writer.segments.count - 1].bytes
        do throws(WriteAheadLogError) {
            try writer.file.write(bytes)
            try writer.file.synchronize()
        } catch {
            writer.file.truncate(to: before)
            let failures = shared.withLock { state in
                state.stats.failures += 1
                state.stats.lastError = error.description
                return state.stats.failures
            }
            if let count = writer.failureLog.record("write", now: .now) {
                let repeats = count > 1 ? " (\(count) failures since the last report, \(failures) in all)" : ""
                writer.logger.error(
                    "learner: write-ahead log failed, \(group.count) batches not acknowledged: \(error)\(repeats)")
            }
            for pending in group { pending.completion(.failure(error)) }
            return
        }
        writer.nextOrdinal = ordinal
        writer.segments[writer.segments.count - 1].bytes += bytes.count
        writer.segments[writer.segments.count - 1].end = ordinal
        let transitions = group.reduce(0) { $0 + $1.record.transitions }
        let onDisk = writer.segments.reduce(0) { $0 + $1.bytes }
        shared.withLock { state in
            state.stats.records += group.count
            state.stats.transitions += transitions
            state.stats.syncs += 1
            state.stats.bytesOnDisk = onDisk
            state.stats.nextOrdinal = ordinal
        }
        // Rolled before the completions, so whoever learns of them sees the segments as they stay.
        if writer.segments[writer.segments.count - 1].bytes >= writer.segmentBytes { roll(&writer) }
        for (pending, first) in zip(group, ordinals) { pending.completion(.success(first)) }
    }

    /// Closes the full segment and begins the next; on failure the full one stays open (and grows).
    private func roll(_ writer: inout Writer) {
        let index = writer.segments[writer.segments.count - 1].index + 1
        let path = directory + "/" + String(format: "segment-%012d.wal", index)
        do throws(WriteAheadLogError) {
            let next = try writer.storage.create(path: path)
            writer.file.close()
            writer.file = next
            writer.segments.append(Segment(index: index, path: path, first: writer.nextOrdinal,
                                           end: writer.nextOrdinal, bytes: 0))
            let count = writer.segments.count
            shared.withLock { $0.stats.segments = count }
        } catch {
            writer.logger.warning("learner: write-ahead log: \(error); the current segment keeps growing")
        }
    }

    /// Deletes closed segments whose transitions all lie below `ordinal`.
    private func retire(below ordinal: UInt64, _ writer: inout Writer) {
        var removed = 0
        while writer.segments.count > 1, let oldest = writer.segments.first, oldest.end <= ordinal {
            // A segment of marks only (end == first) goes too: its batches were acknowledged long ago.
            unlink(oldest.path)
            writer.segments.removeFirst()
            removed += 1
        }
        guard removed > 0 else { return }
        let (count, onDisk) = (writer.segments.count, writer.segments.reduce(0) { $0 + $1.bytes })
        shared.withLock { state in
            state.stats.segmentsRetired += removed
            state.stats.segments = count
            state.stats.bytesOnDisk = onDisk
        }
    }
}
