import Foundation
import Learning
import Simulators
import Synchronization
import Telemetry
import Testing
import Wire

@Suite struct WriteAheadLogTests {
    let now = ContinuousClock.now

    /// A fresh run directory under the temporary directory.
    func runDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "meow-wal-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }


    func segments(_ directory: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory + "/wal").filter { $0.hasSuffix(".wal") }.sorted()
    }

    // MARK: - Records

    @Test func recordsComeBackInOrderWithTheirOrdinals() async throws {
        let directory = try runDirectory()
        let log = try WriteAheadLog(runDirectory: directory)
        #expect(try await log.append(.batch(tagged(seq: 0), marked: true)) == 0)
        #expect(try await log.append(.mark(PeerKey(actorID: 1, runID: 10), seq: 1)) == 4)
        #expect(try await log.append(.batch(tagged(seq: 2, count: 3), marked: false)) == 4)
        log.close()
        let recovered = try WriteAheadLog.recover(runDirectory: directory)
        #expect(recovered.records.map(\.ordinal) == [0, 4, 4])
        #expect(recovered.records.map(\.record) == [
            .batch(tagged(seq: 0), marked: true), .mark(PeerKey(actorID: 1, runID: 10), seq: 1),
            .batch(tagged(seq: 2, count: 3), marked: false),
        ])
        #expect(recovered.transitions == 7)
        #expect(recovered.tornBytes == 0)
        // A marked batch and a mark teach the ledger their (peer, seq); a simulator's batch does not.
        #expect(recovered.records.compactMap(\.record.seen).map(\.seq) == [0, 1])
    }

    @Test func aTornTailIsCutAtTheLastWholeRecordAndCounted() async throws {
        let directory = try runDirectory()
        let log = try WriteAheadLog(runDirectory: directory)
        _ = try await log.append(.batch(tagged(seq: 0), marked: true))
        _ = try await log.append(.batch(tagged(seq: 1), marked: true))
        log.close()
        let path = directory + "/wal/" + (try segments(directory)).last!
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        // The crash cut the second record 10 bytes short.
        try whole.prefix(whole.count - 10).write(to: URL(fileURLWithPath: path))
        let recovered = try WriteAheadLog.recover(runDirectory: directory)
        #expect(recovered.records.map(\.record) == [.batch(tagged(seq: 0), marked: true)])
        #expect(recovered.transitions == 4)
        #expect(recovered.tornBytes > 0)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == whole.count - 10 - recovered.tornBytes)

        // The next session appends after the cut, and its ordinals continue from the whole records.
        let next = try WriteAheadLog(runDirectory: directory, recovered: recovered)
        #expect(next.stats.tornBytesCut == recovered.tornBytes)
        #expect(try await next.append(.batch(tagged(seq: 1), marked: true)) == 4)
        next.close()
        #expect(try WriteAheadLog.recover(runDirectory: directory).transitions == 8)
    }

    @Test func aChecksumMismatchEndsTheLastSegmentButIsDamageEarlier() async throws {
        let directory = try runDirectory()
        let first = try WriteAheadLog(runDirectory: directory)
        _ = try await first.append(.batch(tagged(seq: 0), marked: true))
        _ = try await first.append(.batch(tagged(seq: 1), marked: true))
        first.close()
        let path = directory + "/wal/" + (try segments(directory)).last!
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[bytes.count - 3] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let recovered = try WriteAheadLog.recover(runDirectory: directory)
        #expect(recovered.records.count == 1)
        #expect(recovered.tornBytes > 0)

        // The same damage in a segment with a later one after it is not a torn tail.
        let second = try WriteAheadLog(runDirectory: directory, recovered: recovered)
        _ = try await second.append(.batch(tagged(seq: 2), marked: true))
        second.close()
        var earlier = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        earlier[earlier.count - 3] ^= 0xFF
        try Data(earlier).write(to: URL(fileURLWithPath: path))
        #expect(throws: WriteAheadLogError.self) { try WriteAheadLog.recover(runDirectory: directory) }
    }

    // MARK: - Group commit

    @Test func concurrentAppendsShareSyncsAndCompleteInOrder() async throws {
        let storage = CountingStorage(syncDelay: .milliseconds(20))
        let log = try WriteAheadLog(runDirectory: try runDirectory(), storage: storage)
        let ordinals = await withTaskGroup(of: UInt64.self) { group in
            for seq in 0 ..< 64 {
                group.addTask {
                    (try? await log.append(.batch(tagged(seq: UInt64(seq), count: 1), marked: true))) ?? .max
                }
            }
            return await group.reduce(into: [UInt64]()) { $0.append($1) }
        }
        log.close()
        #expect(Set(ordinals) == Set(0 ..< 64))
        #expect(log.stats.records == 64)
        #expect(storage.syncs < 64, "every sync made several batches durable")
        #expect(log.stats.syncs == storage.syncs)
    }

    // MARK: - Failures

    @Test func aFailedWriteCompletesNothingAsDurableAndTheLedgerDoesNotAcknowledge() async throws {
        let storage = CountingStorage(syncDelay: .zero)
        storage.failWrites(true)
        let log = try WriteAheadLog(runDirectory: try runDirectory(), storage: storage)
        var ledger = try makeLedger()
        _ = ledger.hello(hello(), now: now)
        guard case .log(let pending) = ledger.admit(batch(seq: 0), now: now) else {
            Issue.record("the batch was not admitted")
            return
        }
        #expect(ledger.admit(batch(seq: 0), now: now).reply?.ackStatus == .tryLater, "a resend waits for the log")
        let durable: Result<UInt64, WriteAheadLogError>
        do {
            durable = .success(try await log.append(pending.record))
        } catch {
            durable = .failure(error)
        }
        #expect(log.stats.failures == 1)
        let reply = ledger.commit(pending, durable, now: now)
        #expect(reply.errorCode == .tryLater)
        #expect(ledger.drain().isEmpty && ledger.queuedTransitions == 0 && ledger.acceptedTransitions == 0)
        #expect(ledger.logFailures == 1)

        // Once the disk takes writes again the resend is stored, once: never DUPLICATE for what is not on disk.
        storage.failWrites(false)
        guard case .log(let again) = ledger.admit(batch(seq: 0), now: now) else {
            Issue.record("the resend was not admitted")
            return
        }
        let ordinal = try await log.append(again.record)
        #expect(ordinal == 0, "the failed group left no ordinals behind")
        #expect(ledger.commit(again, .success(ordinal), now: now).ackStatus == .accepted)
        #expect(ledger.drain().count == 1)
        log.close()
    }

    // MARK: - Recovery into replay and retirement

    @Test func recoveryKeepsTheTransitionsReplayStillHolds() async throws {
        let directory = try runDirectory()
        let log = try WriteAheadLog(runDirectory: directory)
        for seq in 0 ..< 5 { _ = try await log.append(.batch(tagged(seq: UInt64(seq)), marked: true)) }
        log.close()
        let recovered = try WriteAheadLog.recover(runDirectory: directory)
        // A replay of 10 transitions holds the last 10 of the 20 logged: half of seq 2, all of 3 and 4.
        let kept = recovered.batches(from: recovered.transitions - 10)
        #expect(kept.map(\.seq) == [2, 3, 4])
        #expect(kept.map(\.count) == [2, 4, 4])
        #expect(kept[0].observations == [1, 2, 2, 1, 2, 3])
        // After a checkpoint snapshot at 12 transitions only what came later goes back.
        #expect(recovered.batches(from: 12).map(\.seq) == [3, 4])
    }

    @Test func segmentsGoOnceTheirTransitionsLeftReplay() async throws {
        let directory = try runDirectory()
        let log = try WriteAheadLog(runDirectory: directory, segmentBytes: 200)
        for seq in 0 ..< 6 { _ = try await log.append(.batch(tagged(seq: UInt64(seq)), marked: true)) }
        let before = try segments(directory)
        #expect(before.count >= 6, "each record fills a segment of 200 bytes")
        log.retire(below: 8)
        // Retirement runs on the writer thread; a further append is the barrier after it.
        _ = try await log.append(.mark(PeerKey(actorID: 1, runID: 10), seq: 99))
        #expect(log.stats.segmentsRetired == 2)
        #expect(try segments(directory) == Array(before.dropFirst(2)))
        log.close()
        let recovered = try WriteAheadLog.recover(runDirectory: directory)
        #expect(recovered.records.first?.ordinal == 8)
        #expect(recovered.transitions == 24)
    }
}

/// A batch whose observations say which (actor, seq, row) it is.
func tagged(actor: UInt32 = 1, seq: UInt64, count: Int = 4) -> Wire.TransitionBatch {
    var value = batch(actor: actor, seq: seq, count: count)
    value.observations = (0 ..< count).flatMap { [Float(actor), Float(seq), Float($0)] }
    return value
}

/// Segment files in memory that count syncs, can be slow to sync, and can fail every write (a full disk).
final class CountingStorage: LogStorage {
    private struct State {
        var syncs = 0
        var failing = false
    }

    private let state = Mutex(State())
    let syncDelay: Duration

    init(syncDelay: Duration) { self.syncDelay = syncDelay }

    var syncs: Int { state.withLock { $0.syncs } }

    func failWrites(_ failing: Bool) { state.withLock { $0.failing = failing } }

    func create(path: String) throws(WriteAheadLogError) -> any LogSegmentFile { File(storage: self, path: path) }

    struct File: LogSegmentFile {
        let storage: CountingStorage
        let path: String

        func write(_ bytes: [UInt8]) throws(WriteAheadLogError) {
            if storage.state.withLock({ $0.failing }) {
                throw .write(path: path, reason: "No space left on device")
            }
        }

        func synchronize() throws(WriteAheadLogError) {
            if storage.syncDelay > .zero { Thread.sleep(forTimeInterval: storage.syncDelay.seconds) }
            storage.state.withLock { $0.syncs += 1 }
        }

        func truncate(to size: Int) {}
        func close() {}
    }
}

extension IngestAdmission {
    var reply: Message? {
        if case .reply(let message) = self { return message }
        return nil
    }
}
