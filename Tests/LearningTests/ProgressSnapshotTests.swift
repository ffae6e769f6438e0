import Testing

@testable import Learning

@Suite struct ProgressSnapshotTests {
    @Test func lineShowsStepsRateReturnsLossAndETA() {
        let snapshot = ProgressSnapshot(
            step: 12_000, totalSteps: 20_000, stepsPerSecond: 800, lastEpisodicReturn: -145.24,
            lastEvaluationReturn: -150.26, lastLoss: 1.2344, secondsLeft: 10)
        #expect(
            snapshot.line == "step 12000/20000 (60%) | 800 SPS | return -145.2 | eval -150.3 | loss 1.234 | ETA 0:10")
    }

    @Test func missingValuesShowAsDashes() {
        let snapshot = ProgressSnapshot(
            step: 0, totalSteps: 10, stepsPerSecond: 0, lastEpisodicReturn: nil, lastEvaluationReturn: nil,
            lastLoss: nil)
        #expect(snapshot.line == "step 0/10 (0%) | 0 SPS | return - | eval - | loss -")
    }

    @Test func durationsUseHoursOnlyWhenNeeded() {
        #expect(ProgressSnapshot.duration(59) == "0:59")
        #expect(ProgressSnapshot.duration(3_725) == "1:02:05")
        #expect(ProgressSnapshot.duration(.infinity) == "-")
    }

    // MARK: - Remaining time

    @Test func theWarmUpGivesNoEstimate() {
        let start = ContinuousClock.now
        var remaining = RemainingTime(updatesAfterStep: 1_000)
        for step in stride(from: 100, through: 1_000, by: 100) {
            remaining.observe(step: step, at: start + .milliseconds(step))
            #expect(remaining.secondsLeft(step: step, totalSteps: 20_000, at: start + .milliseconds(step)) == nil)
        }
    }

    @Test func theEstimateUsesTheUpdatingPaceOnly() throws {
        // Warm-up at 10,000 steps/s (1,000 steps in 0.1 s), then 100 steps/s once updates run.
        let start = ContinuousClock.now
        var remaining = RemainingTime(updatesAfterStep: 1_000)
        remaining.observe(step: 1_000, at: start + .milliseconds(100))
        remaining.observe(step: 1_001, at: start + .milliseconds(110))
        let now = start + .milliseconds(110) + .seconds(10)
        remaining.observe(step: 2_001, at: now)
        let left = try #require(remaining.secondsLeft(step: 2_001, totalSteps: 20_001, at: now))
        // 18,000 steps at 100/s; an average over the whole run (2,001 steps in 10.11 s) would say about 91 s.
        #expect(abs(left - 180) < 1e-6)
    }

    @Test func aFinishedRunHasNothingLeft() throws {
        let start = ContinuousClock.now
        var remaining = RemainingTime(updatesAfterStep: 0)
        remaining.observe(step: 1, at: start)
        #expect(try #require(remaining.secondsLeft(step: 10, totalSteps: 10, at: start + .seconds(1))) == 0)
    }
}
