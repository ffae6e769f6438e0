import Testing

@testable import Learning

@Suite struct ProgressSnapshotTests {
    @Test func lineShowsStepsRateReturnsLossAndETA() {
        let snapshot = ProgressSnapshot(
            step: 12_000, totalSteps: 20_000, stepsPerSecond: 800, lastEpisodicReturn: -145.24,
            lastEvaluationReturn: -150.26, lastLoss: 1.2344)
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
}
