#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import NN
import Synchronization

/// An exclusive `flock` on a run directory's `learner.lock`, held for the learner's lifetime.
///
/// Two learners writing one write-ahead log, one metrics.csv and one `checkpoints/latest` would
/// corrupt all three, so the second is refused. The lock file holds the holder's pid, for the
/// message; the kernel drops the lock when the process dies, `kill -9` included.
public final class RunDirectoryLock: Sendable {
    public static let fileName = "learner.lock"
    private let descriptor: Int32

    /// Takes the lock or throws, naming the directory and the pid that holds it.
    public init(runDirectory: String) throws(LearnerError) {
        let path = runDirectory + "/" + Self.fileName
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(descriptor, &buffer, buffer.count, 0)
            Glibc.close(descriptor)
            guard reason == EWOULDBLOCK else { throw .io(path: path, reason: String(cString: strerror(reason))) }
            let holder = n > 0
                ? String(decoding: buffer[0 ..< n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            throw .runDirectoryLocked(path: runDirectory, holderPID: Int32(holder))
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(descriptor, 0)
        _ = pid.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.descriptor = descriptor
    }

    deinit { Glibc.close(descriptor) }
}

/// The highest policy version a run directory's learners may have served, kept in `served-version`.
///
/// Versions are reserved in blocks: before serving a version above the stored ceiling the
/// learner writes a ceiling `block` higher (temporary file, fsync, rename, fsync of the
/// directory), so a crash never loses a served number and the file is written once per block.
/// A learner that resumes or restarts in the directory numbers its versions past the ceiling.
public final class VersionCeiling: Sendable {
    public static let fileName = "served-version"
    public let path: String
    private let block: UInt64
    private let reserved: Mutex<UInt64>

    /// Reads the stored ceiling (0 when there is none).
    public init(runDirectory: String, block: UInt64 = 1000) {
        path = runDirectory + "/" + Self.fileName
        self.block = block
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        reserved = Mutex(UInt64(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0)
    }

    /// The stored ceiling: every version above it is unused.
    public var ceiling: UInt64 { reserved.withLock { $0 } }

    /// Makes sure `version` lies under a durable ceiling, writing a new one if not.
    public func reserve(_ version: UInt64) throws(LearnerError) {
        try reserved.withLock { (ceiling: inout UInt64) throws(LearnerError) in
            guard version > ceiling else { return }
            let next = version + block
            let temporary = path + ".tmp"
            let bytes = Array("\(next)\n".utf8)
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw .io(path: temporary, reason: String(cString: strerror(errno))) }
            let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            let synced = fsync(descriptor) == 0
            Glibc.close(descriptor)
            guard written == bytes.count, synced, rename(temporary, path) == 0 else {
                throw .io(path: path, reason: String(cString: strerror(errno)))
            }
            syncDirectory(containing: path)
            ceiling = next
        }
    }
}

/// `fsync`s the directory that holds `path`, so a file created or renamed there survives a crash.
/// Best effort: a directory that cannot be opened is left as it is.
func syncDirectory(containing path: String) {
    let directory = open((path as NSString).deletingLastPathComponent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard directory >= 0 else { return }
    _ = fsync(directory)
    Glibc.close(directory)
}

/// The files a learner run leaves in its run directory, and the rule that a directory holds one run.
public enum LearnerRunFiles {
    /// Entries that mean "a run is here"; `--overwrite` removes them (and TensorBoard's event files).
    public static let entries = [
        RunFiles.config, RunFiles.metrics, RunFiles.checkpoints, RunFiles.policy, RunFiles.summary,
        WriteAheadLog.directoryName, VersionCeiling.fileName, "learner-stats.json", "ingest.log",
    ]

    /// Lets a fresh run start in `directory`: refuses one that holds a run, unless `overwrite`,
    /// which deletes that run's files first (and says so at notice level on `logger`).
    static func claim(_ directory: String, overwrite: Bool, logger: Logger = Logger(label: "meow.learner"))
        throws(LearnerError) {
        let manager = FileManager.default
        let names = (try? manager.contentsOfDirectory(atPath: directory)) ?? []
        let earlier = names.filter { entries.contains($0) || $0.hasPrefix(RunFiles.eventFilePrefix) }.sorted()
        guard !earlier.isEmpty else { return }
        guard overwrite else { throw .runDirectoryHoldsRun(path: directory, found: describe(directory)) }
        logger.notice("learner: --overwrite: deleting the earlier run in \(directory) (\(describe(directory)))")
        for name in earlier {
            do {
                try manager.removeItem(atPath: directory + "/" + name)
            } catch {
                throw .io(path: directory + "/" + name, reason: "cannot delete it: \(fileErrorReason(error))")
            }
        }
    }

    /// The run in `directory` in a few words: its environment and how far it got.
    static func describe(_ directory: String) -> String {
        func object(_ path: String) -> [String: Any]? {
            guard let data = FileManager.default.contents(atPath: directory + "/" + path) else { return nil }
            return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        }
        var parts: [String] = []
        if let env = object(RunFiles.config)?["env"] as? String { parts.append("env \(env)") }
        if let stats = object("learner-stats.json"), let steps = stats["env_steps"] as? Int,
           let updates = stats["updates"] as? Int {
            parts.append("\(steps) env steps, \(updates) updates")
        } else if let latest = try? String(contentsOfFile: directory + "/" + RunFiles.checkpoints + "/latest",
                                           encoding: .utf8),
                  let counters = object(RunFiles.checkpoints + "/" + latest.trimmingCharacters(in: .whitespacesAndNewlines)
                                        + "/manifest.json")?["counters"] as? [String: Any],
                  let steps = counters["steps"] as? Int, let updates = counters["updates"] as? Int {
            parts.append("\(steps) env steps, \(updates) updates at its last checkpoint")
        }
        if WriteAheadLog.exists(in: directory) { parts.append("a write-ahead log") }
        return parts.isEmpty ? "its files" : parts.joined(separator: ", ")
    }
}
