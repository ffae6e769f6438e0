import Testing
import Replay

@Suite struct RateLimiterTests {
    // MARK: - Minimum size

    @Test func samplingWaitsForTheMinimumSizeWhileInsertsAreFree() {
        var limiter = RateLimiter.sampleToInsertRatio(samplesPerInsert: 1, minSizeToSample: 3, errorBuffer: 1)
        for _ in 0..<2 {
            #expect(limiter.canInsert())
            #expect(!limiter.canSample())
            limiter.recordInsert()
        }
        #expect(limiter.canInsert())
        limiter.recordInsert()
        #expect(limiter.size == 3)
        #expect(limiter.canSample())
    }

    @Test func deletesCanDropTheSizeBelowTheMinimum() {
        var limiter = RateLimiter.minSize(4)
        limiter.recordInsert(4)
        #expect(limiter.canSample(100))
        limiter.recordDelete()
        #expect(limiter.size == 3)
        #expect(!limiter.canSample())
    }

    @Test func minSizeLimiterNeverBlocksOnceFilled() {
        var limiter = RateLimiter.minSize(2)
        limiter.recordInsert(2)
        limiter.recordSample(1_000_000)
        #expect(limiter.canSample(1_000_000))
        #expect(limiter.canInsert(1_000_000))
    }

    // MARK: - Ratio enforcement

    @Test func errorRangeIsOffsetByTheWarmUpFill() {
        let limiter = RateLimiter.sampleToInsertRatio(samplesPerInsert: 2, minSizeToSample: 3, errorBuffer: 2)
        #expect(limiter.minDiff == 4)
        #expect(limiter.maxDiff == 8)
    }

    @Test func insertsBlockWhenSamplingLags() {
        // offset 6, range [4, 8]: D = 2 * inserts - samples.
        var limiter = RateLimiter.sampleToInsertRatio(samplesPerInsert: 2, minSizeToSample: 3, errorBuffer: 2)
        limiter.recordInsert(3)
        #expect(limiter.canInsert())  // D would become 8
        limiter.recordInsert()
        #expect(!limiter.canInsert())  // D would become 10
        limiter.recordSample(2)
        #expect(limiter.canInsert())
    }

    @Test func samplesBlockWhenInsertingLags() {
        var limiter = RateLimiter.sampleToInsertRatio(samplesPerInsert: 2, minSizeToSample: 3, errorBuffer: 2)
        limiter.recordInsert(3)  // D = 6
        #expect(limiter.canSample(2))  // D would become 4
        #expect(!limiter.canSample(3))  // D would become 3
        limiter.recordSample(2)
        #expect(!limiter.canSample(1))
        limiter.recordInsert()
        #expect(limiter.canSample(2))
    }

    @Test func largerErrorBufferAllowsMoreDrift() {
        func insertsAhead(errorBuffer: Double) -> Int {
            var limiter = RateLimiter.sampleToInsertRatio(
                samplesPerInsert: 4, minSizeToSample: 10, errorBuffer: errorBuffer)
            while limiter.canInsert() { limiter.recordInsert() }
            return limiter.inserts - 10
        }
        // D may rise errorBuffer above the offset: errorBuffer / samplesPerInsert inserts.
        #expect(insertsAhead(errorBuffer: 4) == 1)
        #expect(insertsAhead(errorBuffer: 40) == 10)
    }

    @Test func oneUpdatePerEnvironmentStep() {
        // The documented equivalence: one actor, one insert per step, samplesPerInsert = B.
        let batch = 4
        let minSize = 10
        var limiter = RateLimiter.sampleToInsertRatio(
            samplesPerInsert: Double(batch), minSizeToSample: minSize, errorBuffer: Double(batch))
        #expect(throws: Never.self) { try limiter.validate(sampleBatchSize: batch) }
        for step in 1...200 {
            #expect(limiter.canInsert(), "step \(step)")
            limiter.recordInsert()
            var updates = 0
            while limiter.canSample(batch) {
                limiter.recordSample(batch)
                updates += 1
            }
            #expect(updates == (step >= minSize ? 1 : 0), "step \(step)")
        }
    }

    // MARK: - Blocked time

    @Test func waitsAccumulate() {
        var limiter = RateLimiter.minSize(1)
        limiter.recordInsertBlocked(for: .milliseconds(5))
        limiter.recordInsertBlocked(for: .milliseconds(7))
        limiter.recordSampleBlocked(for: .seconds(1))
        #expect(limiter.blockedInserts == 2)
        #expect(limiter.insertWait == .milliseconds(12))
        #expect(limiter.blockedSamples == 1)
        #expect(limiter.sampleWait == .seconds(1))
    }

    // MARK: - Validation

    @Test func acceptsWorkingSettings() throws {
        try RateLimiter.sampleToInsertRatio(samplesPerInsert: 256, minSizeToSample: 1000, errorBuffer: 256)
            .validate(sampleBatchSize: 256, capacity: 1_000_000)
        try RateLimiter.sampleToInsertRatio(samplesPerInsert: 0.5, minSizeToSample: 1, errorBuffer: 1).validate()
        try RateLimiter.minSize(100).validate(sampleBatchSize: 256)
    }

    @Test func rejectsANonPositiveRatio() {
        for ratio in [0, -1, Double.infinity, Double.nan] {
            let limiter = RateLimiter(samplesPerInsert: ratio, minSizeToSample: 1, minDiff: -10, maxDiff: 10)
            #expect(throws: RateLimiterError.self) { try limiter.validate() }
        }
        let zero = RateLimiter(samplesPerInsert: 0, minSizeToSample: 1, minDiff: -10, maxDiff: 10)
        #expect(throws: RateLimiterError.nonPositiveSamplesPerInsert(0)) { try zero.validate() }
    }

    @Test func rejectsAnEmptyMinimumSize() {
        let limiter = RateLimiter.sampleToInsertRatio(samplesPerInsert: 1, minSizeToSample: 0, errorBuffer: 5)
        #expect(throws: RateLimiterError.minSizeTooSmall(0)) { try limiter.validate() }
    }

    @Test func rejectsAnEmptySampleBatch() {
        let limiter = RateLimiter.minSize(1)
        #expect(throws: RateLimiterError.invalidSampleBatchSize(0)) { try limiter.validate(sampleBatchSize: 0) }
    }

    @Test func rejectsAnErrorBufferBelowReverbsMinimum() {
        // Reverb: width >= 2 * max(1, samplesPerInsert).
        let limiter = RateLimiter.sampleToInsertRatio(samplesPerInsert: 8, minSizeToSample: 10, errorBuffer: 7)
        #expect(throws: RateLimiterError.errorBufferTooNarrow(width: 14, required: 16)) { try limiter.validate() }
        let small = RateLimiter.sampleToInsertRatio(samplesPerInsert: 0.5, minSizeToSample: 10, errorBuffer: 0.75)
        #expect(throws: RateLimiterError.errorBufferTooNarrow(width: 1.5, required: 2)) { try small.validate() }
    }

    @Test func rejectsAnErrorBufferTooNarrowForTheBatch() {
        // Fine for single samples, but a batch of 64 could block together with an insert.
        let limiter = RateLimiter.sampleToInsertRatio(samplesPerInsert: 4, minSizeToSample: 100, errorBuffer: 8)
        #expect(throws: Never.self) { try limiter.validate(sampleBatchSize: 1) }
        #expect(throws: RateLimiterError.errorBufferTooNarrow(width: 16, required: 68)) {
            try limiter.validate(sampleBatchSize: 64)
        }
    }

    @Test func narrowRangeReallyDeadlocks() {
        // The configuration validate rejects above, driven to the state where both wait.
        // An actor inserts while it may; the learner wants batches of 64.
        var limiter = RateLimiter.sampleToInsertRatio(samplesPerInsert: 4, minSizeToSample: 100, errorBuffer: 8)
        while limiter.canInsert() { limiter.recordInsert() }
        #expect(limiter.difference == 408)  // maxDiff; minDiff is 392
        #expect(!limiter.canSample(64))
    }

    @Test func rejectsARangeAboveTheOffset() {
        let limiter = RateLimiter(samplesPerInsert: 1, minSizeToSample: 10, minDiff: 11, maxDiff: 20)
        #expect(throws: RateLimiterError.errorRangeAboveOffset(minDiff: 11, offset: 10)) { try limiter.validate() }
    }

    @Test func rejectsARangeBelowTheOffset() {
        let limiter = RateLimiter(samplesPerInsert: 1, minSizeToSample: 10, minDiff: 0, maxDiff: 9)
        #expect(throws: RateLimiterError.errorRangeBelowOffset(maxDiff: 9, offset: 10)) { try limiter.validate() }
    }

    @Test func rejectsAMinimumSizeTheBufferCannotHold() {
        let limiter = RateLimiter.sampleToInsertRatio(samplesPerInsert: 1, minSizeToSample: 500, errorBuffer: 5)
        #expect(throws: RateLimiterError.minSizeAboveCapacity(minSizeToSample: 500, capacity: 400)) {
            try limiter.validate(capacity: 400)
        }
    }

    @Test func errorsSayWhatToChange() {
        let message = RateLimiterError.errorBufferTooNarrow(width: 16, required: 68).description
        #expect(message.hasSuffix("raise the error buffer"))
        #expect(RateLimiterError.minSizeAboveCapacity(minSizeToSample: 5, capacity: 4).description.contains("capacity 4"))
    }
}
