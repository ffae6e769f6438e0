import Testing
@testable import Replay

/// A transition whose every field encodes `id`, so a sampled row shows where it came from.
private func insertTagged(_ id: Int, into buffer: inout ReplayBuffer) throws {
    let x = Float(id)
    try buffer.insert(
        observation: [x, x + 0.25], action: [-x], reward: x, terminated: id % 3 == 0,
        nextObservation: [x + 0.5, x + 0.75])
}

/// The same transitions as `insertTagged(ids)`, as one columnar batch.
private func taggedBatch(_ ids: Range<Int>) throws -> TransitionBatch {
    let xs = ids.map(Float.init)
    return try TransitionBatch(
        observations: xs.flatMap { [$0, $0 + 0.25] }, actions: xs.map { -$0 }, rewards: xs,
        terminations: ids.map { $0 % 3 == 0 ? 1 : 0 }, nextObservations: xs.flatMap { [$0 + 0.5, $0 + 0.75] },
        observationDimension: 2, actionDimension: 1)
}

private func makeBuffer(capacity: Int) throws -> ReplayBuffer {
    try ReplayBuffer(capacity: capacity, observationDimension: 2, actionDimension: 1, availableMemory: nil)
}

@Suite struct ReplayBufferTests {
    // MARK: - Memory needs

    @Test func bytesCountsEveryColumn() {
        // Two 3-float observations, a 2-float action, reward and flag: 10 floats of 4 bytes.
        #expect(ReplayBuffer.bytes(capacity: 10, observationDimension: 3, actionDimension: 2) == 400)
        #expect(ReplayBuffer.bytes(capacity: 1_000_000, observationDimension: 17, actionDimension: 6) == 168_000_000)
        #expect(ReplayBuffer.bytes(capacity: Int.max / 2, observationDimension: 3, actionDimension: 2) == Int.max)
    }

    @Test func refusesACapacityThatDoesNotFit() throws {
        #expect(throws: ReplayError.insufficientMemory(required: 400, available: 399)) {
            try ReplayBuffer(capacity: 10, observationDimension: 3, actionDimension: 2, availableMemory: 399)
        }
        let fits = try ReplayBuffer(capacity: 10, observationDimension: 3, actionDimension: 2, availableMemory: 400)
        #expect(fits.capacity == 10)
        let message = ReplayError.insufficientMemory(required: 3 << 30, available: 1 << 30).description
        #expect(message == "replay buffer needs 3072.0 MiB but only 1024.0 MiB are available; lower the replay capacity")
    }

    @Test(.enabled(if: MemoryInfo.availableBytes() != nil, "needs /proc/meminfo"))
    func refusesAnAbsurdCapacityAgainstTheRealMemAvailable() throws {
        #expect(throws: ReplayError.self) {
            try ReplayBuffer(capacity: 1 << 50, observationDimension: 376, actionDimension: 17)
        }
    }

    @Test func rejectsEmptyShapes() {
        #expect(throws: ReplayError.invalidCapacity(0)) {
            try ReplayBuffer(capacity: 0, observationDimension: 2, actionDimension: 1, availableMemory: nil)
        }
        #expect(throws: ReplayError.invalidDimensions(observation: 0, action: 1)) {
            try ReplayBuffer(capacity: 5, observationDimension: 0, actionDimension: 1, availableMemory: nil)
        }
    }

    // MARK: - Inserting

    @Test func wrapsAroundOverwritingTheOldest() throws {
        var buffer = try makeBuffer(capacity: 4)
        for id in 0..<6 { try insertTagged(id, into: &buffer) }
        #expect(buffer.count == 4)
        #expect(buffer.insertCount == 6)
        #expect(buffer.isFull)
        let contents = try #require(buffer.orderedContents())
        #expect(contents.rewards == [2, 3, 4, 5])
        #expect(contents.observations == [2, 2.25, 3, 3.25, 4, 4.25, 5, 5.25])
        #expect(contents.nextObservations == [2.5, 2.75, 3.5, 3.75, 4.5, 4.75, 5.5, 5.75])
        #expect(contents.actions == [-2, -3, -4, -5])
        #expect(contents.terminations == [0, 1, 0, 0])
    }

    @Test func insertReportsOverwrites() throws {
        var buffer = try makeBuffer(capacity: 3)
        var reported: [Int] = []
        for id in 0..<5 {
            reported.append(
                try buffer.insert(
                    observation: [0, 0], action: [0], reward: Float(id), terminated: false, nextObservation: [0, 0]))
        }
        #expect(reported == [0, 0, 0, 1, 1])
        #expect(try buffer.insert(contentsOf: try taggedBatch(0..<7)) == 7)
    }

    @Test func batchInsertEqualsSequentialInserts() throws {
        // Different fill levels before the batch, and batches shorter than, equal to and
        // longer than the capacity, so every wrap-around path is taken.
        for prefill in [0, 2, 5] {
            for batchSize in [1, 3, 5, 7, 12] {
                var sequential = try makeBuffer(capacity: 5)
                var batched = try makeBuffer(capacity: 5)
                for id in 0..<prefill {
                    try insertTagged(id, into: &sequential)
                    try insertTagged(id, into: &batched)
                }
                for id in prefill..<(prefill + batchSize) { try insertTagged(id, into: &sequential) }
                try batched.insert(contentsOf: try taggedBatch(prefill..<(prefill + batchSize)))

                #expect(batched.count == sequential.count)
                #expect(batched.insertCount == sequential.insertCount)
                #expect(batched.orderedContents() == sequential.orderedContents(), "prefill \(prefill) batch \(batchSize)")
                // Same slots too: the same seed samples the same rows.
                var a = TestGenerator(seed: 11)
                var b = TestGenerator(seed: 11)
                var fromSequential = TransitionBatch(count: 16, observationDimension: 2, actionDimension: 1)
                var fromBatched = fromSequential
                sequential.sample(into: &fromSequential, using: &a)
                batched.sample(into: &fromBatched, using: &b)
                #expect(fromBatched == fromSequential)
            }
        }
    }

    @Test func rejectsMisshapenTransitions() throws {
        var buffer = try makeBuffer(capacity: 3)
        #expect(throws: ReplayError.shapeMismatch(field: "observation", expected: 2, actual: 3)) {
            try buffer.insert(observation: [1, 2, 3], action: [0], reward: 0, terminated: false, nextObservation: [0, 0])
        }
        #expect(throws: ReplayError.shapeMismatch(field: "action", expected: 1, actual: 2)) {
            try buffer.insert(observation: [1, 2], action: [0, 1], reward: 0, terminated: false, nextObservation: [0, 0])
        }
        let wide = TransitionBatch(count: 2, observationDimension: 3, actionDimension: 1)
        #expect(throws: ReplayError.shapeMismatch(field: "batch observation width", expected: 2, actual: 3)) {
            try buffer.insert(contentsOf: wide)
        }
        #expect(buffer.count == 0 && buffer.insertCount == 0)
    }

    @Test func columnarBatchesAreChecked() {
        #expect(throws: ReplayError.shapeMismatch(field: "actions", expected: 2, actual: 1)) {
            try TransitionBatch(
                observations: [1, 2], actions: [0], rewards: [0, 0], terminations: [0, 0],
                nextObservations: [1, 2], observationDimension: 1, actionDimension: 1)
        }
        #expect(throws: ReplayError.invalidTermination(0.5)) {
            try TransitionBatch(
                observations: [1], actions: [0], rewards: [0], terminations: [0.5], nextObservations: [1],
                observationDimension: 1, actionDimension: 1)
        }
    }

    // MARK: - Sampling

    @Test func sampledRowsAreWholeTransitionsFromTheFilledPart() throws {
        var buffer = try makeBuffer(capacity: 100)
        for id in 0..<5 { try insertTagged(id, into: &buffer) }
        var generator = TestGenerator(seed: 3)
        var batch = TransitionBatch(count: 64, observationDimension: 2, actionDimension: 1)
        buffer.sample(into: &batch, using: &generator)
        #expect(batch.slots.allSatisfy { (0..<5).contains($0) })
        for row in 0..<batch.count {
            let id = batch.rewards[row]
            #expect(Float(batch.slots[row]) == id)
            #expect(batch.observations[2 * row ..< 2 * row + 2] == [id, id + 0.25])
            #expect(batch.nextObservations[2 * row ..< 2 * row + 2] == [id + 0.5, id + 0.75])
            #expect(batch.actions[row] == -id)
            #expect(batch.terminations[row] == (Int(id) % 3 == 0 ? 1 : 0))
        }
    }

    @Test func samplingIsDeterministicForASeed() throws {
        var buffer = try makeBuffer(capacity: 50)
        for id in 0..<50 { try insertTagged(id, into: &buffer) }
        func draw(_ seed: UInt64) -> [Int] {
            var generator = TestGenerator(seed: seed)
            var batch = TransitionBatch(count: 32, observationDimension: 2, actionDimension: 1)
            buffer.sample(into: &batch, using: &generator)
            return batch.slots
        }
        #expect(draw(7) == draw(7))
        #expect(draw(7) != draw(8))
    }

    @Test func samplingIsRoughlyUniform() throws {
        let capacity = 10
        var buffer = try makeBuffer(capacity: capacity)
        // Wrap once so uniformity is checked over a ring that has overwritten slots.
        for id in 0..<15 { try insertTagged(id, into: &buffer) }
        var generator = TestGenerator(seed: 2024)
        var batch = TransitionBatch(count: 1000, observationDimension: 2, actionDimension: 1)
        var counts = [Int](repeating: 0, count: capacity)
        for _ in 0..<20 {
            buffer.sample(into: &batch, using: &generator)
            for slot in batch.slots { counts[slot] += 1 }
        }
        let expected = 20_000.0 / Double(capacity)
        let chiSquare = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        // 9 degrees of freedom: P(chi² > 30) ≈ 4e-4. A biased sampler (e.g. one that
        // never draws the last slot) lands in the thousands.
        #expect(chiSquare < 30, "chi² \(chiSquare), counts \(counts)")
    }
}
