import Testing
import Environments

/// The multi-goal toy of docs/algorithm.md §6.4.
@Suite struct MultiGoalTests {
    // MARK: - Dynamics

    @Test func positionMovesByTheClippedAction() {
        var toy = MultiGoal()
        toy.setState(position: [0, 0])
        _ = toy.step(action: [3, -0.25])
        #expect(toy.position == [1, -0.25])
    }

    @Test func positionIsClippedToTheArena() {
        var toy = MultiGoal()
        toy.setState(position: [6.5, -6.8])
        _ = toy.step(action: [1, -1])
        #expect(toy.position == [7, -7])
    }

    // MARK: - Reward

    @Test func rewardIsActionCostPlusSquaredDistanceToTheNearestGoal() {
        var toy = MultiGoal()
        toy.setState(position: [0, 0])
        let result = toy.step(action: [1, 0.5])
        // s' = (1, 0.5); nearest goal (5, 0) at squared distance 16.25; 30 * 1.25 = 37.5.
        #expect(result.reward == -(37.5 + 16.25))
        #expect(!result.terminated)
        #expect(result.info.reachedGoal == nil)
    }

    @Test func actionCostUsesTheClippedAction() {
        var toy = MultiGoal()
        toy.setState(position: [0, 0])
        let result = toy.step(action: [-4, 0])
        // s' = (-1, 0): nearest goal (-5, 0) at squared distance 16; clipped |a|² = 1.
        #expect(result.reward == -(30 + 16))
    }

    // MARK: - Goals

    @Test func reachingEachGoalTerminatesWithTheBonusAndItsIndex() {
        for (index, goal) in MultiGoal.goals.enumerated() {
            var toy = MultiGoal()
            _ = toy.reset(seed: 1)
            toy.setState(position: goal * 0.8)  // distance 1 from the goal
            let direction = goal / 5
            let action = [Float(direction.x) * 0.25, Float(direction.y) * 0.25]
            let result = toy.step(action: action)
            #expect(result.terminated, "goal \(index)")
            #expect(!result.truncated)
            #expect(result.info.reachedGoal == index)
            // Distance 0.75 after the step: cost 30 * 0.0625 + 0.5625, plus the bonus.
            #expect(abs(result.reward - (10 - 1.875 - 0.5625)) < 1e-12)
        }
    }

    @Test func distanceExactlyOneIsNotReached() {
        var toy = MultiGoal()
        toy.setState(position: [0, 4])
        let result = toy.step(action: [0, 0])
        #expect(!result.terminated)
        #expect(result.reward == -1)
    }

    @Test func nearestGoalPicksTheClosest() {
        #expect(MultiGoal.nearestGoal(to: [4, 1]).index == 0)
        #expect(MultiGoal.nearestGoal(to: [-3, 0.5]).index == 1)
        #expect(MultiGoal.nearestGoal(to: [0.2, 2]).index == 2)
        #expect(MultiGoal.nearestGoal(to: [1, -6]) == (index: 3, squaredDistance: 2))
    }

    // MARK: - Time limit

    @Test func configurableTruncation() {
        var toy = MultiGoal(maxEpisodeSteps: 100)
        _ = toy.reset(seed: 2)
        var ends: [Int] = []
        for step in 1...100 where toy.step(action: [0, 0]).truncated { ends.append(step) }
        #expect(ends == [100])
    }
}
