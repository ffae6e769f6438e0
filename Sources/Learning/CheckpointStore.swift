#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NN
import Replay
import Telemetry

/// rename(2), named apart from `CheckpointStore.rename`.
private func posixRename(_ from: String, _ to: String) -> Int32 {
    #if canImport(Glibc)
    Glibc.rename(from, to)
    #else
    Darwin.rename(from, to)
    #endif
}

/// Why a checkpoint could not be written, found or trusted. Every case names the file.
///
/// A resume that hits one of these stops with the message; it never falls back to a
/// fresh start, which would silently throw the run's progress away.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
    /// Neither a checkpoint (manifest.json) nor a run directory (checkpoints/latest) is at `path`.
    case notFound(path: String)
    /// A file the manifest lists, or the manifest itself, is missing.
    case missingFile(path: String)
    /// manifest.json is not valid JSON of the expected shape (truncated or corrupted).
    case corruptManifest(path: String, reason: String)
    /// The manifest's format version is not one this build reads (a newer one).
    case unsupportedFormat(path: String, version: Int)
    /// The manifest parses but a value in it cannot be used.
    case invalidManifest(reason: String)
    /// A data file's size differs from the manifest's (truncated or overwritten).
    case sizeMismatch(path: String, expected: Int, actual: Int)
    /// A data file's CRC-32C differs from the manifest's (corrupted).
    case checksumMismatch(path: String, expected: String, actual: String)
    /// A data file has the right checksum but does not fit this agent or buffer.
    case invalidData(path: String, reason: String)
    /// The checkpoint belongs to another setup (environment, dimensions).
    case incompatible(reason: String)
    /// A write, fsync or rename failed.
    case cannotWrite(path: String, reason: String)

    public var description: String {
        switch self {
        case let .notFound(path):
            "no checkpoint at \(path): expected a checkpoint directory with manifest.json or a run directory "
                + "with checkpoints/latest"
        case let .missingFile(path):
            "checkpoint file \(path) is missing; the checkpoint is incomplete, resume from another one"
        case let .corruptManifest(path, reason):
            "checkpoint manifest \(path) is truncated or corrupted (\(reason)); resume from another checkpoint"
        case let .unsupportedFormat(path, version):
            "checkpoint \(path) has format version \(version), which this build does not know (it reads "
                + "versions 1 to \(CheckpointManifest.currentFormatVersion)); use a newer meow"
        case let .invalidManifest(reason):
            "checkpoint manifest is invalid: \(reason)"
        case let .sizeMismatch(path, expected, actual):
            "checkpoint file \(path) has \(actual) bytes, the manifest says \(expected) (truncated or replaced)"
        case let .checksumMismatch(path, expected, actual):
            "checkpoint file \(path) is corrupted: CRC-32C \(actual), the manifest says \(expected)"
        case let .invalidData(path, reason):
            "checkpoint file \(path) cannot be restored: \(reason)"
        case let .incompatible(reason):
            "checkpoint does not fit this run: \(reason)"
        case let .cannotWrite(path, reason):
            "cannot write checkpoint file \(path): \(reason)"
        }
    }
}

/// The agent's part of a checkpoint: data files (by name) and the manifest's agent record.
public struct AgentCheckpoint: Sendable, Equatable {
    /// File name -> bytes, e.g. "online.safetensors".
    public var files: [String: [UInt8]]
    public var record: AgentRecord

    public init(files: [String: [UInt8]], record: AgentRecord) {
        self.files = files
        self.record = record
    }
}

/// A checkpoint read back and verified: the manifest and the agent's files.
///
/// The replay snapshot, which can be large, is read chunk by chunk by `restoreReplay()`
/// (each chunk verified before it is copied).
public struct LoadedCheckpoint: Sendable {
    /// The checkpoint directory (…/checkpoints/step-000012000).
    public let directory: URL
    public let manifest: CheckpointManifest
    public let agent: AgentCheckpoint

    /// The run directory the checkpoint belongs to (two levels up).
    public var runDirectory: URL { directory.deletingLastPathComponent().deletingLastPathComponent() }

    /// The replay buffer of the snapshot, or nil when the checkpoint has none.
    public func restoreReplay(availableMemory: Int? = MemoryInfo.availableBytes()) throws -> ReplayBuffer? {
        guard let header = manifest.replay else { return nil }
        let records = Dictionary(manifest.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        do {
            return try ReplayBuffer(restoring: header, availableMemory: availableMemory) { index in
                let name = CheckpointStore.replayChunkName(index)
                guard let record = records[name] else {
                    throw CheckpointError.invalidManifest(reason: "replay chunk \(name) is not in the file list")
                }
                return try CheckpointStore.readVerified(record, in: directory)
            }
        } catch let error as ReplayError {
            throw CheckpointError.invalidData(path: directory.appendingPathComponent("replay").path, reason: "\(error)")
        }
    }
}

/// Writes checkpoints atomically into a run's checkpoints/ directory, prunes old ones, and loads them back.
///
/// Layout (docs/checkpoints.md): `checkpoints/step-000012000/` with manifest.json, the
/// agent's files and an optional `replay/`; `checkpoints/latest` and `checkpoints/best`
/// are one-line pointer files naming a checkpoint directory. A checkpoint is written
/// into `.tmp-step-…`, every file fsynced, then renamed into place, so a crash leaves
/// either the old set of checkpoints or the new one, never a half-written one that a
/// pointer names.
public struct CheckpointStore: Sendable {
    public static let manifestName = "manifest.json"
    public static let latestPointer = "latest"
    public static let bestPointer = "best"

    /// The run's checkpoints/ directory.
    public let directory: URL
    /// Checkpoints kept besides the best one.
    public let keep: Int

    public init(runDirectory: URL, keep: Int) {
        directory = runDirectory.appendingPathComponent("checkpoints")
        self.keep = max(1, keep)
    }

    /// "step-000012000".
    public static func name(step: Int) -> String {
        "step-" + String(repeating: "0", count: max(0, 9 - String(step).count)) + String(step)
    }

    static func replayChunkName(_ index: Int) -> String {
        "replay/chunk-" + String(repeating: "0", count: max(0, 5 - String(index).count)) + String(index) + ".bin"
    }

    // MARK: - Saving

    /// Writes a checkpoint for `manifest.counters.steps` and returns its directory.
    ///
    /// `replay`, when given, is snapshotted chunk by chunk (`maxChunkBytes` per file), so
    /// memory never holds a second copy. `best` also points the `best` pointer at it.
    /// Then `latest` is updated and checkpoints beyond the newest `keep` (except the
    /// best) are deleted.
    @discardableResult
    public func save(
        manifest: CheckpointManifest, agent: AgentCheckpoint, replay: ReplayBuffer? = nil,
        maxChunkBytes: Int = 64 << 20, best: Bool = false
    ) throws(CheckpointError) -> URL {
        let name = Self.name(step: manifest.counters.steps)
        let final = directory.appendingPathComponent(name)
        let temporary = directory.appendingPathComponent(".tmp-" + name)
        try makeDirectory(directory)
        try? FileManager.default.removeItem(at: temporary)
        try makeDirectory(temporary)

        var manifest = manifest
        manifest.agent = agent.record
        manifest.files = []
        for fileName in agent.files.keys.sorted() {
            manifest.files.append(try Self.writeDurably(agent.files[fileName]!, named: fileName, in: temporary))
        }
        if let replay {
            let header = replay.snapshotHeader(maxChunkBytes: maxChunkBytes)
            try makeDirectory(temporary.appendingPathComponent("replay"))
            for index in 0..<header.chunkCount {
                let bytes = replay.snapshotChunk(index, of: header)
                manifest.files.append(try Self.writeDurably(bytes, named: Self.replayChunkName(index), in: temporary))
            }
            try Self.syncDirectory(temporary.appendingPathComponent("replay"))
            manifest.replay = header
        } else {
            manifest.replay = nil
        }
        let manifestBytes: [UInt8]
        do {
            manifestBytes = Array(try RunDirectory.encodeJSON(manifest))
        } catch {
            throw .cannotWrite(path: temporary.appendingPathComponent(Self.manifestName).path, reason: fileErrorReason(error))
        }
        _ = try Self.writeDurably(manifestBytes, named: Self.manifestName, in: temporary)
        try Self.syncDirectory(temporary)

        // Replace an older checkpoint of the same step (a resumed run reaching it again).
        if FileManager.default.fileExists(atPath: final.path) {
            let old = directory.appendingPathComponent(".old-" + name)
            try? FileManager.default.removeItem(at: old)
            try rename(final, old)
            try rename(temporary, final)
            try? FileManager.default.removeItem(at: old)
        } else {
            try rename(temporary, final)
        }
        try Self.syncDirectory(directory)
        try writePointer(Self.latestPointer, to: name)
        if best { try writePointer(Self.bestPointer, to: name) }
        prune()
        return final
    }

    /// The checkpoint names (step-…) present, oldest first.
    public func checkpointNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasPrefix("step-") }.sorted()
    }

    /// The checkpoint a pointer names, or nil.
    public func pointer(_ name: String) -> String? {
        guard let text = try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8) else {
            return nil
        }
        let value = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return value.isEmpty ? nil : value
    }

    /// Deletes all but the newest `keep` checkpoints, never the best or the latest, and leftover temporaries.
    func prune() {
        let protected = Set([pointer(Self.bestPointer), pointer(Self.latestPointer)].compactMap { $0 })
        let names = checkpointNames()
        for name in names.dropLast(keep) where !protected.contains(name) {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
        let all = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in all where name.hasPrefix(".tmp-") || name.hasPrefix(".old-") {
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
        }
    }

    private func writePointer(_ pointer: String, to name: String) throws(CheckpointError) {
        let temporaryName = ".\(pointer).tmp"
        _ = try Self.writeDurably(Array((name + "\n").utf8), named: temporaryName, in: directory)
        try rename(directory.appendingPathComponent(temporaryName), directory.appendingPathComponent(pointer))
        try Self.syncDirectory(directory)
    }

    private func rename(_ from: URL, _ to: URL) throws(CheckpointError) {
        if posixRename(from.path, to.path) != 0 {
            throw .cannotWrite(path: to.path, reason: "rename from \(from.lastPathComponent) failed: \(Self.errnoText())")
        }
    }

    private func makeDirectory(_ url: URL) throws(CheckpointError) {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw .cannotWrite(path: url.path, reason: error.localizedDescription)
        }
    }

    /// Writes `bytes` to `directory/name`, fsyncs it, and returns its record.
    static func writeDurably(_ bytes: [UInt8], named name: String, in directory: URL) throws(CheckpointError)
        -> CheckpointFileRecord
    {
        let path = directory.appendingPathComponent(name).path
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotWrite(path: path, reason: errnoText()) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .cannotWrite(path: path, reason: errnoText())
            }
            written += n
        }
        guard fsync(fd) == 0 else { throw .cannotWrite(path: path, reason: "fsync: \(errnoText())") }
        return CheckpointFileRecord(path: name, bytes: bytes.count, crc32c: hex(CRC32C.checksum(bytes)))
    }

    /// Makes a directory's entries (new files, renames) durable.
    static func syncDirectory(_ url: URL) throws(CheckpointError) {
        let fd = open(url.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotWrite(path: url.path, reason: errnoText()) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .cannotWrite(path: url.path, reason: "fsync: \(errnoText())") }
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    // MARK: - Loading

    /// The checkpoint directory `url` means: itself if it holds manifest.json, else the
    /// one `latest` names in `url` (a checkpoints/ directory) or in `url/checkpoints` (a run directory).
    public static func locate(_ url: URL) throws(CheckpointError) -> URL {
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: url.appendingPathComponent(manifestName).path) { return url }
        for candidate in [url, url.appendingPathComponent("checkpoints")] {
            let pointer = candidate.appendingPathComponent(latestPointer)
            guard fileManager.fileExists(atPath: pointer.path) else { continue }
            let store = CheckpointStore(runDirectory: candidate.deletingLastPathComponent(), keep: 1)
            guard let name = store.pointer(latestPointer) else {
                throw .corruptManifest(path: pointer.path, reason: "the pointer file is empty")
            }
            let target = candidate.appendingPathComponent(name)
            guard fileManager.fileExists(atPath: target.appendingPathComponent(manifestName).path) else {
                throw .missingFile(path: target.appendingPathComponent(manifestName).path)
            }
            return target
        }
        if fileManager.fileExists(atPath: url.path) { throw .notFound(path: url.path) }
        throw .missingFile(path: url.path)
    }

    /// Reads and verifies the checkpoint `url` means (see `locate`): the manifest, then
    /// every agent file's size and checksum. Replay chunks are verified as they are read.
    public static func load(_ url: URL) throws(CheckpointError) -> LoadedCheckpoint {
        let directory = try locate(url)
        let manifestURL = directory.appendingPathComponent(manifestName)
        guard var data = FileManager.default.contents(atPath: manifestURL.path) else {
            throw .missingFile(path: manifestURL.path)
        }
        // The version first, so a newer format is reported as such rather than as corruption.
        if let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if object["formatVersion"] == nil {
                data = Self.addingFormatVersion(1, to: data, empty: object.isEmpty)
            } else if let version = object["formatVersion"] as? Int,
                      !(1...CheckpointManifest.currentFormatVersion).contains(version) {
                throw .unsupportedFormat(path: manifestURL.path, version: version)
            }
        }
        let manifest: CheckpointManifest
        do {
            manifest = try JSONDecoder().decode(CheckpointManifest.self, from: data)
        } catch {
            throw .corruptManifest(path: manifestURL.path, reason: describe(error))
        }
        var agentFiles: [String: [UInt8]] = [:]
        for record in manifest.files where !record.path.hasPrefix("replay/") {
            agentFiles[record.path] = try readVerified(record, in: directory)
        }
        if let header = manifest.replay {
            for index in 0..<header.chunkCount {
                let name = replayChunkName(index)
                guard let record = manifest.files.first(where: { $0.path == name }) else {
                    throw .invalidManifest(reason: "replay chunk \(name) is not in the file list")
                }
                let path = directory.appendingPathComponent(name).path
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                      let size = (attributes[.size] as? NSNumber)?.intValue else { throw .missingFile(path: path) }
                if size != record.bytes { throw .sizeMismatch(path: path, expected: record.bytes, actual: size) }
            }
        }
        return LoadedCheckpoint(
            directory: directory, manifest: manifest, agent: AgentCheckpoint(files: agentFiles, record: manifest.agent))
    }

    /// A manifest written before versions were recorded is version 1: the field is spliced in
    /// after the opening brace, so every other byte (and every double in it) is read as written.
    private static func addingFormatVersion(_ version: Int, to data: Data, empty: Bool) -> Data {
        guard let brace = data.firstIndex(of: UInt8(ascii: "{")) else { return data }
        var patched = data
        patched.insert(contentsOf: Array("\"formatVersion\":\(version)\(empty ? "" : ",")".utf8), at: brace + 1)
        return patched
    }

    /// The bytes of a listed file, after checking its size and checksum.
    static func readVerified(_ record: CheckpointFileRecord, in directory: URL) throws(CheckpointError) -> [UInt8] {
        guard !record.path.contains(".."), !record.path.hasPrefix("/") else {
            throw .invalidManifest(reason: "file path '\(record.path)' leaves the checkpoint directory")
        }
        let path = directory.appendingPathComponent(record.path).path
        guard let data = FileManager.default.contents(atPath: path) else { throw .missingFile(path: path) }
        let bytes = [UInt8](data)
        if bytes.count != record.bytes { throw .sizeMismatch(path: path, expected: record.bytes, actual: bytes.count) }
        let actual = hex(CRC32C.checksum(bytes))
        if actual != record.crc32c { throw .checksumMismatch(path: path, expected: record.crc32c, actual: actual) }
        return bytes
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.dataCorrupted(context):
            return "not valid JSON: " + (context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription)
        case let DecodingError.keyNotFound(key, context):
            return "missing field '" + (context.codingPath.map(\.stringValue) + [key.stringValue]).joined(separator: ".") + "'"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            return "wrong type at '" + context.codingPath.map(\.stringValue).joined(separator: ".") + "'"
        default:
            return fileErrorReason(error)
        }
    }
}
