import Foundation
import Environments
import Tensor

/// The multimodality test of docs/algorithm.md §8.4: which of MultiGoal's four goals do stochastic rollouts reach?
public struct MultiGoalReport: Sendable, Equatable, CustomStringConvertible {
    /// Rollouts that reached each goal, indexed as `MultiGoal.goals`: +x, −x, +y, −y.
    public var goalCounts: [Int]
    /// Rollouts that hit the step cap without reaching a goal.
    public var timeouts: Int
    /// Rollouts run.
    public var rollouts: Int
    /// Mean steps of the rollouts that reached a goal (nil when none did).
    ///
    /// The goal counts alone do not show learning: a uniform random walk reaches all
    /// four goals within 100 steps often enough to pass. A trained policy heads for a
    /// goal and gets there in tens of steps, so this number tells them apart.
    public var meanStepsToGoal: Double?

    public init(goalCounts: [Int], timeouts: Int, rollouts: Int, meanStepsToGoal: Double? = nil) {
        self.goalCounts = goalCounts
        self.timeouts = timeouts
        self.rollouts = rollouts
        self.meanStepsToGoal = meanStepsToGoal
    }

    /// Goals reached by at least `minimumFraction` of the rollouts.
    public func goalsReached(minimumFraction: Double = 0.05) -> Int {
        goalCounts.filter { rollouts > 0 && Double($0) >= minimumFraction * Double(rollouts) }.count
    }

    /// The pass criterion: at least `minimumGoals` goals, each reached by `minimumFraction` of the rollouts.
    public func passes(minimumGoals: Int = 3, minimumFraction: Double = 0.05) -> Bool {
        goalsReached(minimumFraction: minimumFraction) >= minimumGoals
    }

    public var description: String {
        let counts = goalCounts.map(String.init).joined(separator: " / ")
        let verdict = passes() ? "PASS" : "FAIL"
        return "MultiGoal: goals (+x, -x, +y, -y) reached \(counts) of \(rollouts) rollouts, "
            + "\(timeouts) timed out, " + (meanStepsToGoal.map { String(format: "%.1f", $0) } ?? "-")
            + " steps to a goal on average; \(goalsReached()) goals at >= 5%: \(verdict) (needs 3 of 4)"
    }
}

/// Runs the MultiGoal check on a trained agent.
public enum MultiGoalCheck {
    /// The step cap of the reference check.
    public static let defaultMaxSteps = 100

    /// `rollouts` stochastic episodes capped at `maxSteps`, reset with seeds 0 ..< rollouts.
    public static func run(
        agent: any TrainableAgent, rollouts: Int = 200, maxSteps: Int = defaultMaxSteps, seed: UInt64 = 0
    ) throws -> MultiGoalReport {
        let environment = try EnvironmentRegistry.makeUnitActionEnvironment(
            name: "multigoal", maxEpisodeSteps: maxSteps)
        var rng = Xoshiro256(seed: seed)
        let seeds = (0..<UInt64(max(rollouts, 0))).map { $0 }
        let outcomes = Rollouts.run(
            agent: agent, environment: environment, seeds: seeds, deterministic: false, rng: &rng)
        var counts = Array(repeating: 0, count: MultiGoal.goals.count)
        var timeouts = 0
        var goalSteps = 0
        for outcome in outcomes {
            if let goal = outcome.reachedGoal {
                counts[goal] += 1
                goalSteps += outcome.length
            } else {
                timeouts += 1
            }
        }
        let reached = outcomes.count - timeouts
        return MultiGoalReport(
            goalCounts: counts, timeouts: timeouts, rollouts: outcomes.count,
            meanStepsToGoal: reached > 0 ? Double(goalSteps) / Double(reached) : nil)
    }
}
