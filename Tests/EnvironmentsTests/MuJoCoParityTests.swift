import Testing

@testable import Environments

/// Checks the five MuJoCo tasks against gymnasium 0.29.1's v4 environments.
///
/// The fixtures were recorded with MuJoCo 2.3.3; these tests run Debian's 2.2.2. See
/// `MuJoCoParityTests.oneStepTolerance` for how close the two versions are expected to be.
@Suite struct MuJoCoParityTests {
    /// The task names, as the fixtures and the registry spell them.
    static let tasks = ["hopper", "walker2d", "halfcheetah", "ant", "humanoid"]

    /// Relative tolerance (`|a - b| / max(1, |b|)`) for one step from a recorded state.
    ///
    /// Measured on Debian's MuJoCo 2.2.2 against the 2.3.3 recordings: next states and
    /// rewards are bit-identical for every record of all five tasks, and so are the 50-step
    /// horizons and the zero-action episodes (up to 1000 steps); these models use nothing
    /// that changed between the two versions. Observations differ only by their rounding to
    /// float32. The tolerance is not zero because another CPU, compiler or libm may round a
    /// last bit differently: starting a replay from a solver warm start that differed in the
    /// last bits moved one step by at most 3e-14. 1e-10 still catches semantic slips, which
    /// are orders of magnitude larger: an extra `mj_forward` before reading the Ant's torso
    /// (whose `xpos` lags one substep, ~1e-6 m) would move its reward by ~1e-5.
    static let oneStepTolerance = 1e-10

    /// Relative tolerance over a 50-step horizon and a whole episode's return.
    ///
    /// Contacts amplify last-bit differences along a trajectory: the warm-start experiment
    /// above grew to 2e-9 in HalfCheetah's rewards after 50 steps; 1e-6 keeps a margin of 500.
    static let horizonTolerance = 1e-6

    /// Runs `body` with the environment type of the task called `name`.
    static func withTask(_ name: String, _ body: (any MuJoCoTask.Type) throws -> Void) throws {
        switch name {
        case "hopper": try body(HopperTask.self)
        case "walker2d": try body(Walker2dTask.self)
        case "halfcheetah": try body(HalfCheetahTask.self)
        case "ant": try body(AntTask.self)
        case "humanoid": try body(HumanoidTask.self)
        default: Issue.record("no task \(name)")
        }
    }

    /// A fresh environment placed in a recorded state the way the recorder did it:
    /// reset data, `set_state` (write qpos and qvel, `mj_forward`).
    static func environment<T: MuJoCoTask>(
        _ task: T.Type, qpos: [String], qvel: [String]
    ) throws -> MuJoCoEnvironment<T> {
        var environment = try MuJoCoEnvironment<T>()
        environment.resetSimulationData()
        environment.setState(qpos: try exactDoubles(qpos), qvel: try exactDoubles(qvel))
        return environment
    }

    // MARK: - One step

    static func checkSteps<T: MuJoCoTask>(_ task: T.Type, _ fixture: MuJoCoFixture) throws {
        var worst = (state: 0.0, observation: 0.0, reward: 0.0)
        for (index, record) in fixture.steps.enumerated() {
            var environment = try environment(task, qpos: record.qpos, qvel: record.qvel)
            environment.setElapsedSteps(record.elapsedSteps)
            let result = environment.step(action: record.action)
            let place = "\(T.name) step record \(index)"
            #expect(!result.info.simulationUnstable, "\(place)")
            #expect(result.terminated == record.terminated, "\(place): terminated")
            #expect(result.truncated == record.truncated, "\(place): truncated")
            let state = max(
                worstRelativeError(environment.simulation.qpos, try exactDoubles(record.nextQpos)),
                worstRelativeError(environment.simulation.qvel, try exactDoubles(record.nextQvel)))
            let observation = worstRelativeError(result.observation.map(Double.init), record.observation)
            let reward = worstRelativeError([result.reward], [record.reward])
            worst = (max(worst.state, state), max(worst.observation, observation), max(worst.reward, reward))
        }
        print("MuJoCo parity \(T.name) one step: state \(worst.state), observation \(worst.observation), reward \(worst.reward)")
        #expect(worst.state <= oneStepTolerance, "\(T.name): next state")
        // The observation is float32; its own rounding (2^-24 relative) adds to the physics difference.
        #expect(worst.observation <= oneStepTolerance + 0x1p-23, "\(T.name): observation")
        #expect(worst.reward <= oneStepTolerance, "\(T.name): reward")
    }

    @Test(arguments: tasks)
    func oneStepFromARecordedStateMatchesGymnasium(name: String) throws {
        let fixture = try MuJoCoFixture.load(name)
        try Self.withTask(name) { try Self.checkSteps($0, fixture) }
    }

    // MARK: - Horizons

    static func checkHorizons<T: MuJoCoTask>(_ task: T.Type, _ fixture: MuJoCoFixture) throws {
        var worst = (observation: 0.0, reward: 0.0)
        for (index, horizon) in fixture.horizons.enumerated() {
            var environment = try environment(task, qpos: horizon.qpos, qvel: horizon.qvel)
            for (t, action) in horizon.actions.enumerated() {
                let result = environment.step(action: action)
                let place = "\(T.name) horizon \(index) step \(t)"
                #expect(!result.info.simulationUnstable, "\(place)")
                #expect(result.terminated == horizon.terminated[t], "\(place): terminated")
                worst.observation = max(
                    worst.observation, worstRelativeError(result.observation.map(Double.init), horizon.observations[t]))
                worst.reward = max(worst.reward, worstRelativeError([result.reward], [horizon.rewards[t]]))
            }
        }
        print("MuJoCo parity \(T.name) horizons: observation \(worst.observation), reward \(worst.reward)")
        #expect(worst.observation <= horizonTolerance, "\(T.name): horizon observations")
        #expect(worst.reward <= horizonTolerance, "\(T.name): horizon rewards")
    }

    @Test(arguments: tasks)
    func fiftyStepHorizonsMatchGymnasium(name: String) throws {
        let fixture = try MuJoCoFixture.load(name)
        try Self.withTask(name) { try Self.checkHorizons($0, fixture) }
    }

    // MARK: - Whole episodes

    /// Replays the recorded all-zero-action episodes from their recorded start states.
    ///
    /// (The episodes with random actions draw them from numpy's generator, which is not
    /// reproduced here.) Long contact-rich runs drift further than 50 steps do, so the
    /// return is compared relative to its size; the length must match exactly.
    static func checkEpisodes<T: MuJoCoTask>(_ task: T.Type, _ fixture: MuJoCoFixture) throws {
        for episode in fixture.episodes where episode.policy == "all-zero actions" {
            let start = try #require(fixture.resets.first { $0.seed == episode.seed })
            var environment = try environment(task, qpos: start.qpos, qvel: start.qvel)
            let zero = [Float](repeating: 0, count: environment.actionSpace.count)
            var (total, length) = (0.0, 0)
            while true {
                let result = environment.step(action: zero)
                total += result.reward
                length += 1
                if result.isLast { break }
            }
            print("MuJoCo parity \(T.name) zero-action episode: return \(total) vs \(episode.return), length \(length) vs \(episode.length)")
            #expect(length == episode.length, "\(T.name) seed \(episode.seed): episode length")
            #expect(abs(total - episode.return) <= horizonTolerance * max(1, abs(episode.return)), "\(T.name): return")
        }
    }

    @Test(arguments: tasks)
    func zeroActionEpisodesMatchGymnasium(name: String) throws {
        let fixture = try MuJoCoFixture.load(name)
        try Self.withTask(name) { try Self.checkEpisodes($0, fixture) }
    }

    // MARK: - Resets

    static func checkResets<T: MuJoCoTask>(_ task: T.Type, _ fixture: MuJoCoFixture) throws {
        var environment = try MuJoCoEnvironment<T>()
        var differentDraws: [UInt64] = []
        for reset in fixture.resets {
            // The observation gymnasium returns follows from the drawn state alone (MuJoCo may
            // normalise a free joint's quaternion in place during mj_forward).
            let placed = try Self.environment(task, qpos: reset.qpos, qvel: reset.qvel)
            let observation = worstRelativeError(placed.observation.map(Double.init), reset.observation)
            #expect(observation <= 0x1p-24, "\(T.name) seed \(reset.seed): observation from the drawn state")

            // The draw itself must be numpy's, bit for bit.
            let drawn = environment.drawStartState(seed: reset.seed)
            let (qpos, qvel) = (try exactDoubles(reset.qpos), try exactDoubles(reset.qvel))
            if drawn.qpos != qpos || drawn.qvel != qvel {
                differentDraws.append(reset.seed)
            }
        }
        // Fails until EnvironmentGenerator reproduces numpy's PCG64 (uniform, standard_normal).
        #expect(differentDraws.isEmpty, "\(T.name): seeds \(differentDraws) draw other start states than numpy")
    }

    @Test(arguments: tasks)
    func seededResetsDrawGymnasiumsStartStates(name: String) throws {
        let fixture = try MuJoCoFixture.load(name)
        try Self.withTask(name) { try Self.checkResets($0, fixture) }
    }
}
