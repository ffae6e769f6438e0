import Foundation
import Wire

/// An append-only record of every batch the learner took responsibility for.
///
/// One line per accepted batch, `actor_id run_id seq count status`, written with
/// one `write` on an `O_APPEND` descriptor before the ACCEPTED reply leaves: the line
/// is in the kernel's page cache even if the learner is killed right after, and a
/// learner restarted on the same run directory reads the file back so a batch its
/// predecessor acknowledged stays a DUPLICATE (no batch is stored twice across a
/// restart). Tests count lines by (actor, run, seq) to prove it.
public final class IngestLog: @unchecked Sendable {
    private let descriptor: Int32
    public let path: String

    /// Opens (creating if needed) the log for appending.
    public init(path: String) throws(LearnerError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw .io(path: path, reason: String(cString: strerror(errno))) }
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close(descriptor) }

    /// Appends one line for a batch.
    public func append(_ key: PeerKey, seq: UInt64, count: Int, outcome: IngestOutcome) {
        let status = outcome == .droppedStale ? "stale" : "stored"
        let line = Array("\(key.actorID) \(key.runID) \(seq) \(count) \(status)\n".utf8)
        // A failed log write does not stop training; the run only loses restart dedupe for that line.
        _ = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// Every (peer, seq) recorded in the log at `path`; empty when there is no log yet.
    public static func entries(at path: String) -> [(key: PeerKey, seq: UInt64)] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count >= 3, let actor = UInt32(fields[0]), let run = UInt64(fields[1]),
                  let seq = UInt64(fields[2]) else { return nil }
            return (PeerKey(actorID: actor, runID: run), seq)
        }
    }
}
