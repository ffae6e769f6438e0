import Testing
import Environments

/// Termination (absorbing state) versus truncation (time limit), as gymnasium separates them.
@Suite struct EpisodeEndTests {
    // MARK: - Truncation

    @Test func builtInTimeLimitsMatchGymnasium() {
        #expect(Pendulum().maxEpisodeSteps == 200)
        #expect(MountainCarContinuous().maxEpisodeSteps == 999)
        #expect(MultiGoal().maxEpisodeSteps == 1000)
    }

    @Test func pendulumTruncatesExactlyAtTheLimit() {
        var pendulum = Pendulum()
        _ = pendulum.reset(seed: 1)
        for step in 1...200 {
            let result = pendulum.step(action: [0.5])
            #expect(!result.terminated)
            #expect(result.truncated == (step == 200), "step \(step)")
            #expect(pendulum.elapsedSteps == step)
        }
    }

    @Test func truncationKeepsTheRealFinalObservation() {
        var pendulum = Pendulum(maxEpisodeSteps: 3)
        _ = pendulum.reset(seed: 2)
        var last: StepResult?
        for _ in 0..<3 { last = pendulum.step(action: [1]) }
        #expect(last?.truncated == true)
        #expect(last?.observation == pendulum.observation)
    }

    @Test func resetRestartsTheStepCount() {
        var toy = MultiGoal(maxEpisodeSteps: 2)
        _ = toy.reset(seed: 3)
        _ = toy.step(action: [0, 0])
        #expect(toy.step(action: [0, 0]).truncated)
        _ = toy.reset()
        #expect(toy.elapsedSteps == 0)
        #expect(!toy.step(action: [0, 0]).truncated)
    }

    // MARK: - Termination

    @Test func mountainCarTerminatesAtTheFlagWithTheBonus() {
        var car = MountainCarContinuous()
        _ = car.reset(seed: 4)
        car.setState(position: 0.44, velocity: 0.05)
        let result = car.step(action: [1])
        #expect(result.terminated)
        #expect(!result.truncated)
        #expect(abs(result.reward - (100 - 0.1)) < 1e-12)
        #expect(result.observation[0] >= 0.45)
    }

    @Test func mountainCarDoesNotTerminateWhenMovingAwayFromTheFlag() {
        var car = MountainCarContinuous(goalVelocity: 0)
        car.setState(position: 0.5, velocity: -0.03)
        let result = car.step(action: [-1])
        #expect(!result.terminated)
        #expect(abs(result.reward - -0.1) < 1e-12)
    }

    @Test func terminationAndTruncationCanCoincide() {
        // gymnasium's TimeLimit sets truncated on the last step whatever the environment says.
        var car = MountainCarContinuous(maxEpisodeSteps: 1)
        car.setState(position: 0.44, velocity: 0.05)
        let result = car.step(action: [1])
        #expect(result.terminated && result.truncated)
    }
}
