import Environments
import Replay
import Foundation
import MEow
import Tensor
import Testing

@testable import Learning

@Suite struct RolloutsTests {
    // MARK: - Lockstep episodes

    @Test func lockstepEpisodesMatchEpisodesRunOneByOne() throws {
        let agent = ScriptedAgent(log: EventLog())
        let environment = try EnvironmentRegistry.makeUnitActionEnvironment(name: "pendulum", maxEpisodeSteps: 30)
        var rng = Xoshiro256(seed: 1)
        let together = Rollouts.run(
            agent: agent, environment: environment, seeds: [0, 1, 2], deterministic: true, rng: &rng)
        let alone = try [UInt64(0), 1, 2].map { seed in
            try #require(
                Rollouts.run(agent: agent, environment: environment, seeds: [seed], deterministic: true, rng: &rng)
                    .first)
        }
        #expect(together == alone)
        #expect(together.allSatisfy { $0.length == 30 && !$0.terminated })
        #expect(Set(together.map(\.episodeReturn)).count == 3, "different seeds start in different states")
    }

    @Test func episodesOfDifferentLengthsFinishIndependently() {
        let log = EventLog()
        let agent = ScriptedAgent(log: log)
        var rng = Xoshiro256(seed: 1)
        // Seed 1 starts an odd episode (terminates after 3 steps); seeds 0 and 2 are truncated after 5.
        let outcomes = Rollouts.run(
            agent: agent, environment: ScriptedEnvironment(role: "eval", log: log), seeds: [0, 1, 2],
            deterministic: true, rng: &rng)
        #expect(outcomes.map(\.length) == [5, 3, 5])
        #expect(outcomes.map(\.terminated) == [false, true, false])
        #expect(outcomes.map(\.episodeReturn) == [1.25, 0.75, 1.25])
        // Batches shrink as episodes end: 3 rows for 3 steps, then 2.
        let batchSizes = log.events.compactMap { event -> Int? in
            if case let .act(count, _, _) = event { return count }
            return nil
        }
        #expect(batchSizes == [3, 3, 3, 2, 2])
    }

    @Test func evaluationStatistics() {
        let result = EvaluationResult(episodes: [
            EpisodeOutcome(episodeReturn: -1, length: 2, terminated: false, reachedGoal: nil),
            EpisodeOutcome(episodeReturn: -3, length: 4, terminated: true, reachedGoal: nil),
        ])
        #expect(result.meanReturn == -2)
        #expect(result.standardDeviation == 1)
        #expect(result.meanLength == 3)
    }

    // MARK: - MultiGoal check

    @Test func multiGoalReportAppliesTheThreeOfFourRule() {
        let reference = MultiGoalReport(goalCounts: [89, 27, 28, 52], timeouts: 4, rollouts: 200)
        #expect(reference.goalsReached() == 4 && reference.passes())
        let twoModes = MultiGoalReport(goalCounts: [150, 9, 40, 0], timeouts: 1, rollouts: 200)
        #expect(twoModes.goalsReached() == 2 && !twoModes.passes(), "9 of 200 is below 5%")
        #expect(reference.description.contains("89 / 27 / 28 / 52") && reference.description.hasSuffix("(needs 3 of 4)"))
    }

    /// Always pushes towards +x at full speed.
    final class RightwardAgent: TrainableAgent {
        var updateCount = 0
        var skippedUpdates = 0
        func act(observations: [Float], count: Int, deterministic: Bool, rng: inout Xoshiro256) -> [Float] {
            (0..<count).flatMap { _ in [Float(1), 0] }
        }
        func values(observations: [Float], count: Int) -> [Float] { Array(repeating: 0, count: count) }
        func update(batch: TransitionBatch) -> UpdateMetrics { fatalError("not trained") }
        func savePolicy(to path: String) throws {}
        func loadPolicy(from path: String) throws {}
    }

    @Test func multiGoalCheckCountsTheGoalEachRolloutReaches() throws {
        let report = try MultiGoalCheck.run(agent: RightwardAgent(), rollouts: 20)
        #expect(report.goalCounts == [20, 0, 0, 0])
        #expect(report.timeouts == 0 && report.rollouts == 20)
        // From about the origin, unit steps along +x come within 1 of (5, 0) on step 5 (x ≈ 4 falls short).
        #expect(report.meanStepsToGoal.map { $0 >= 4 && $0 <= 5 } == true)
        #expect(!report.passes())

        let capped = try MultiGoalCheck.run(agent: RightwardAgent(), rollouts: 5, maxSteps: 2)
        #expect(capped.goalCounts == [0, 0, 0, 0] && capped.timeouts == 5, "two steps cannot reach a goal 5 away")
        #expect(capped.meanStepsToGoal == nil)
    }
}
