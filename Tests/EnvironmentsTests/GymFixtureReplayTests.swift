import Testing
import Environments

/// Replays trajectories recorded from gymnasium and compares every step.
///
/// Each episode starts from the environment's own seeded reset, which must land on
/// the state gymnasium drew for the same seed; see tools/record_gym_fixtures.py.
@Suite struct GymFixtureReplayTests {
    // MARK: - Pendulum-v1

    @Test func pendulumMatchesGymnasium() throws {
        // The arithmetic follows gymnasium's order and precision (numpy 2 float32
        // promotion included), so on glibc every bit agrees: a float64 shortcut in
        // the torque or cost terms shows up here as a 1e-7..1e-10 difference.
        try replayFixture("pendulum.json", gymnasiumID: "Pendulum-v1") { episode in
            let state = try episode.initialStateValues()
            var pendulum = Pendulum()
            #expect(pendulum.reset(seed: UInt64(episode.seed)) == episode.initialObservation)
            #expect([pendulum.theta, pendulum.thetaDot] == state)
            return pendulum
        }
    }

    @Test func pendulumEpisodeRunsIntoTheTimeLimit() throws {
        let episode = try GymFixture.load("pendulum.json").episodes[0]
        #expect(episode.actions.count == 200)
        #expect(episode.truncated.last == true)
        #expect(episode.terminated.allSatisfy { !$0 })
        // Some recorded torques lie outside [-2, 2], so the replay covers the clip.
        #expect(episode.actions.contains { abs($0[0]) > Pendulum.maxTorque })
    }

    // MARK: - MountainCarContinuous-v0

    @Test func mountainCarMatchesGymnasium() throws {
        // Bit-exact as well; running the whole episode in float64 instead of
        // gymnasium's float64-then-float32 mix leaves errors of a few float32 ulps.
        try replayFixture("mountaincar.json", gymnasiumID: "MountainCarContinuous-v0") { episode in
            let state = try episode.initialStateValues()
            var car = MountainCarContinuous()
            #expect(car.reset(seed: UInt64(episode.seed)) == episode.initialObservation)
            #expect([car.position, car.velocity] == state)
            return car
        }
    }

    @Test func mountainCarFixturesCoverGoalAndTimeLimit() throws {
        let episodes = try GymFixture.load("mountaincar.json").episodes
        let goal = try #require(episodes.first { $0.name == "bang-bang-reaches-goal" })
        #expect(goal.terminated.last == true)
        #expect(goal.truncated.last == false)
        #expect(goal.rewards.last.map { $0 > 99 } == true)
        let timeLimit = try #require(episodes.first { $0.name == "random-force-to-time-limit" })
        #expect(timeLimit.actions.count == 999)
        #expect(timeLimit.truncated.last == true)
        #expect(timeLimit.actions.contains { abs($0[0]) > MountainCarContinuous.maxAction })
    }

    // MARK: - Helpers

    /// Replays every episode of a fixture file from the start state `makeEnvironment` resets to.
    ///
    /// Each step is checked within 1e-5 (in `replay`); the whole episode must then
    /// agree bit for bit, which is what the precision bookkeeping in the
    /// environments buys.
    private func replayFixture<E: Environment>(
        _ fileName: String, gymnasiumID: String, startingAt makeEnvironment: (GymEpisode) throws -> E
    ) throws {
        let fixture = try GymFixture.load(fileName)
        #expect(fixture.episodes.count == 2)
        for episode in fixture.episodes {
            #expect(episode.env == gymnasiumID)
            var environment = try makeEnvironment(episode)
            #expect(environment.elapsedSteps == 0)
            let worst = replay(episode, in: &environment)
            #expect(worst.observation == 0, "\(episode.name): worst observation error \(worst.observation)")
            #expect(worst.reward == 0, "\(episode.name): worst reward error \(worst.reward)")
        }
    }
}
