import Environments
import Tensor

/// The multimodality test of ALGORITHM.md 8.4: which of MultiGoal's four goals do stochastic rollouts reach?
public struct MultiGoalReport: Sendable, Equatable, CustomStringConvertible {
    /// Rollouts that reached each goal, indexed as `MultiGoal.goals`: +x, −x, +y, −y.
    public var goalCounts: [Int]
    /// Rollouts that hit the step cap without reaching a goal.
    public var timeouts: Int
    /// Rollouts run.
    public var rollouts: Int

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
            + "\(timeouts) timed out; \(goalsReached()) goals at >= 5%: \(verdict) (needs 3 of 4)"
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
        for outcome in outcomes {
            if let goal = outcome.reachedGoal { counts[goal] += 1 } else { timeouts += 1 }
        }
        return MultiGoalReport(goalCounts: counts, timeouts: timeouts, rollouts: outcomes.count)
    }
}
