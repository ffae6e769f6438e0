import Testing

@testable import Replay

@Suite struct ReplaySnapshotTests {
    /// A buffer of `capacity` with `inserts` distinct transitions (obs 3, action 2).
    static func filled(capacity: Int, inserts: Int) throws -> ReplayBuffer {
        var buffer = try ReplayBuffer(capacity: capacity, observationDimension: 3, actionDimension: 2)
        for i in 0..<inserts {
            let x = Float(i)
            try buffer.insert(
                observation: [x, x + 0.5, -x], action: [x / 7, -x / 7], reward: x * 0.25, terminated: i % 5 == 0,
                nextObservation: [x + 1, x + 1.5, -x - 1])
        }
        return buffer
    }

    /// The snapshot of `buffer` in chunks of at most `chunkBytes`, restored.
    static func roundTrip(_ buffer: ReplayBuffer, chunkBytes: Int) throws -> (ReplayBuffer, ReplaySnapshotHeader) {
        let header = buffer.snapshotHeader(maxChunkBytes: chunkBytes)
        let chunks = (0..<header.chunkCount).map { buffer.snapshotChunk($0, of: header) }
        for (index, chunk) in chunks.enumerated() { #expect(chunk.count == header.bytes(ofChunk: index)) }
        return (try ReplayBuffer(restoring: header, chunk: { chunks[$0] }), header)
    }

    // MARK: - Round trips

    @Test(arguments: [(10, 4), (10, 10), (10, 23), (1, 3)])
    func aRestoredBufferHasEverySlotAndCounterAndSamplesTheSame(capacity: Int, inserts: Int) throws {
        var original = try Self.filled(capacity: capacity, inserts: inserts)
        var (restored, header) = try Self.roundTrip(original, chunkBytes: 3 * 12 * 4)
        #expect(header.rowsPerChunk == 3)
        #expect(restored.count == original.count && restored.insertCount == original.insertCount)
        #expect(restored.orderedContents() == original.orderedContents())

        var a = TransitionBatch(count: 16, observationDimension: 3, actionDimension: 2)
        var b = a
        var g1 = TestGenerator(seed: 5), g2 = TestGenerator(seed: 5)
        original.sample(into: &a, using: &g1)
        restored.sample(into: &b, using: &g2)
        #expect(a == b, "same slots, same rows")

        // Inserting continues at the same slot in both.
        try original.insert(observation: [9, 9, 9], action: [0, 0], reward: 1, terminated: true, nextObservation: [1, 1, 1])
        try restored.insert(observation: [9, 9, 9], action: [0, 0], reward: 1, terminated: true, nextObservation: [1, 1, 1])
        #expect(restored.orderedContents() == original.orderedContents())
    }

    @Test func anEmptyBufferHasNoChunks() throws {
        let empty = try ReplayBuffer(capacity: 4, observationDimension: 1, actionDimension: 1)
        let (restored, header) = try Self.roundTrip(empty, chunkBytes: 1 << 20)
        #expect(header.chunkCount == 0 && restored.count == 0)
    }

    // MARK: - Rejected snapshots

    @Test func aShortChunkOrAnImpossibleHeaderIsRejected() throws {
        let buffer = try Self.filled(capacity: 8, inserts: 6)
        let header = buffer.snapshotHeader(maxChunkBytes: 1 << 20)
        let chunk = buffer.snapshotChunk(0, of: header)
        #expect(throws: ReplayError.invalidSnapshot("chunk 0 has 10 bytes, expected \(chunk.count)")) {
            _ = try ReplayBuffer(restoring: header, chunk: { _ in Array(chunk.prefix(10)) })
        }
        var wrong = header
        wrong.nextSlot = 2
        #expect(throws: ReplayError.self) { _ = try ReplayBuffer(restoring: wrong, chunk: { _ in chunk }) }
        wrong = header
        wrong.count = 9
        #expect(throws: ReplayError.self) { _ = try ReplayBuffer(restoring: wrong, chunk: { _ in chunk }) }
    }
}
