import Testing

@testable import Environments

@Suite struct MuJoCoEnvironmentTests {
    /// Whether the task's health check passes once the simulation is placed at `qpos`.
    static func healthy<T: MuJoCoTask>(
        _ environment: MuJoCoEnvironment<T>, setting values: [Int: Double], velocity: [Int: Double] = [:]
    ) -> Bool {
        var copy = environment
        var qpos = copy.simulation.qpos
        var qvel = copy.simulation.qvel
        for (index, value) in values { qpos[index] = value }
        for (index, value) in velocity { qvel[index] = value }
        copy.setState(qpos: qpos, qvel: qvel)
        return copy.task.isHealthy(copy.simulation)
    }

    // MARK: - Spaces

    @Test func spacesHaveGymnasiumsSizesAndBounds() throws {
        let expected: [(any Environment, observation: Int, action: Int, bound: Float)] = [
            (try Hopper(), 11, 3, 1), (try Walker2d(), 17, 6, 1), (try HalfCheetah(), 17, 6, 1),
            (try Ant(), 27, 8, 1), (try Humanoid(), 376, 17, 0.4),
        ]
        for (template, observation, action, bound) in expected {
            var environment = template
            #expect(environment.observationSpace.count == observation)
            #expect(environment.actionSpace == BoxSpace(shape: [action], low: -bound, high: bound))
            #expect(environment.reset(seed: 1).count == observation)
            #expect(environment.step(action: Array(repeating: 0, count: action)).observation.count == observation)
        }
    }

    // MARK: - Resets

    @Test func resetNoiseStaysWithinTheTasksScale() throws {
        func check<T: MuJoCoTask>(_ environment: MuJoCoEnvironment<T>, velocityBound: Double) {
            var environment = environment
            let reference = environment.simulation.qpos
            for seed in 0..<20 as Range<UInt64> {
                let start = environment.drawStartState(seed: seed)
                let scale = T.resetNoise.scale
                #expect(zip(start.qpos, reference).allSatisfy { abs($0 - $1) <= scale }, "\(T.name) qpos")
                #expect(start.qvel.allSatisfy { abs($0) <= velocityBound }, "\(T.name) qvel")
                #expect(start.qvel.contains { $0 != 0 }, "\(T.name) qvel noise")
            }
        }
        check(try Hopper(), velocityBound: 5e-3)
        check(try Walker2d(), velocityBound: 5e-3)
        check(try Humanoid(), velocityBound: 1e-2)
        // Normal velocity noise: 0.1 · N(0, 1), beyond 6 sigma never in practice.
        check(try HalfCheetah(), velocityBound: 0.6)
        check(try Ant(), velocityBound: 0.6)
        #expect(HalfCheetahTask.resetNoise == .uniformPositionsNormalVelocities(scale: 0.1))
        #expect(AntTask.resetNoise == .uniformPositionsNormalVelocities(scale: 0.1))
    }

    @Test func aSeededResetIsRepeatableAndRestartsTheClock() throws {
        var environment = try Humanoid()
        let first = environment.reset(seed: 11)
        _ = environment.step(action: Array(repeating: 0.1, count: 17))
        #expect(environment.elapsedSteps == 1)
        #expect(environment.reset(seed: 11) == first)
        #expect(environment.elapsedSteps == 0)
        #expect(environment.simulation.time == 0)
        // cfrc_ext (the last 84 values) is zero after a reset, as in gymnasium.
        #expect(first.suffix(84).allSatisfy { $0 == 0 })
    }

    // MARK: - Termination and truncation

    @Test func healthRangesFollowGymnasiumsBoundaries() throws {
        let hopper = try Hopper()
        #expect(Self.healthy(hopper, setting: [1: 1.25]))
        #expect(!Self.healthy(hopper, setting: [1: 0.7]))  // z > 0.7, strict
        #expect(!Self.healthy(hopper, setting: [2: 0.2]))  // |angle| < 0.2, strict
        #expect(Self.healthy(hopper, setting: [2: -0.19]))
        #expect(!Self.healthy(hopper, setting: [3: 100]))  // qpos[2...] within ±100, strict
        #expect(!Self.healthy(hopper, setting: [:], velocity: [0: -100]))

        let walker = try Walker2d()
        #expect(Self.healthy(walker, setting: [1: 1.99]))
        #expect(!Self.healthy(walker, setting: [1: 2.0]))
        #expect(!Self.healthy(walker, setting: [1: 0.8]))
        #expect(!Self.healthy(walker, setting: [2: -1.0]))
        #expect(Self.healthy(walker, setting: [2: 0.99]))

        let ant = try Ant()
        #expect(Self.healthy(ant, setting: [2: 0.2]))  // inclusive
        #expect(Self.healthy(ant, setting: [2: 1.0]))
        #expect(!Self.healthy(ant, setting: [2: 1.0000001]))
        #expect(!Self.healthy(ant, setting: [2: 0.19]))
        #expect(!Self.healthy(ant, setting: [:], velocity: [5: .infinity]))

        let humanoid = try Humanoid()
        #expect(Self.healthy(humanoid, setting: [2: 1.4]))
        #expect(!Self.healthy(humanoid, setting: [2: 1.0]))
        #expect(!Self.healthy(humanoid, setting: [2: 2.0]))

        #expect(Self.healthy(try HalfCheetah(), setting: [1: -50]))
    }

    @Test func episodesAreTruncatedAtOneThousandSteps() throws {
        var environment = try HalfCheetah()
        _ = environment.reset(seed: 0)
        for step in 1...1000 {
            let result = environment.step(action: Array(repeating: 0, count: 6))
            #expect(result.truncated == (step == 1000), "step \(step)")
            #expect(!result.terminated)
        }
    }

    @Test func aFallenHopperTerminates() throws {
        var environment = try Hopper()
        _ = environment.reset(seed: 0)
        var qpos = environment.simulation.qpos
        qpos[1] = 0.5  // below the healthy height
        environment.setState(qpos: qpos, qvel: environment.simulation.qvel)
        let result = environment.step(action: [0, 0, 0])
        #expect(result.terminated && !result.truncated && !result.info.simulationUnstable)
    }

    // MARK: - Unstable simulations

    @Test func anExplodingSimulationEndsTheEpisodeWithoutCrashing() throws {
        func check<T: MuJoCoTask>(_ environment: MuJoCoEnvironment<T>, qvel: Double?, qpos: Double?, action: Float) {
            var environment = environment
            _ = environment.reset(seed: 2)
            var (positions, velocities) = (environment.simulation.qpos, environment.simulation.qvel)
            if let qvel { velocities = velocities.map { _ in qvel } }
            if let qpos { positions[positions.count - 1] = qpos }
            environment.setState(qpos: positions, qvel: velocities)
            let result = environment.step(action: Array(repeating: action, count: environment.actionSpace.count))
            let place = "\(T.name) qvel \(String(describing: qvel)) qpos \(String(describing: qpos)) action \(action)"
            #expect(result.info.simulationUnstable, "\(place)")
            #expect(result.terminated && result.reward == 0, "\(place)")
            #expect(result.observation.allSatisfy { $0.isFinite }, "\(place)")
            #expect(environment.simulation.stateIsFinite, "\(place)")
            // The episode can start over as usual.
            _ = environment.reset(seed: 2)
            #expect(!environment.step(action: Array(repeating: 0, count: environment.actionSpace.count)).info.simulationUnstable)
        }
        check(try Hopper(), qvel: 1e12, qpos: nil, action: 0)
        check(try Hopper(), qvel: nil, qpos: .nan, action: 0)
        check(try Walker2d(), qvel: nil, qpos: nil, action: .nan)
        check(try Ant(), qvel: 1e11, qpos: nil, action: 0)
        check(try Humanoid(), qvel: nil, qpos: .infinity, action: 0)
    }

    @Test func aFatalMuJoCoErrorWhileSteppingIsReportedNotFatal() throws {
        // 100 numbers of stack compile, but the first contact overflows them: MuJoCo's
        // fatal "Stack overflow", which would otherwise end the process.
        let xml = """
            <mujoco><size nstack="100"/><worldbody><geom type="plane" size="5 5 .1"/>
            <body pos="0 0 0.2"><freejoint/><geom type="box" size=".1 .1 .1"/></body></worldbody></mujoco>
            """
        var simulation = MuJoCoSimulation(model: try MuJoCoModel.load(xml: xml, source: "a tiny stack"))
        var outcomes: [Bool] = []
        for _ in 0..<100 { outcomes.append(simulation.advance(control: [], frames: 1, computeContactForces: false)) }
        #expect(outcomes.contains(false))
        #expect(simulation.stateIsFinite)
    }

    // MARK: - Value semantics and snapshots

    @Test func aCopyOfAnEnvironmentDoesNotShareItsSimulation() throws {
        var original = try Ant()
        _ = original.reset(seed: 5)
        var copy = original
        let action: [Float] = [0.5, -0.5, 0.5, -0.5, 1, -1, 0.2, 0.3]
        let first = original.step(action: action)
        #expect(copy.elapsedSteps == 0)
        #expect(copy.simulation.qpos != original.simulation.qpos)
        #expect(copy.step(action: action) == first)
        #expect(copy.simulation.qpos == original.simulation.qpos)
    }

    @Test func copiesSteppedOnSeveralThreadsAtOnceStayIndependent() async throws {
        var template = try Humanoid()
        _ = template.reset(seed: 8)
        let actions = (0..<20).map { i in (0..<17).map { Float(($0 + i) % 5) / 5 - 0.4 } }
        let start = template
        var sequential = start
        let expected = actions.map { sequential.step(action: $0) }
        let results = await withTaskGroup(of: [StepResult].self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var copy = start
                    return actions.map { copy.step(action: $0) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 4 && results.allSatisfy { $0 == expected })
        #expect(start.elapsedSteps == 0 && start.simulation.qpos == template.simulation.qpos)
    }

    @Test func everyTaskContinuesExactlyFromASnapshot() throws {
        // Built once each: copies share the compiled model and copy mjData on first write.
        let (hopper, walker, cheetah) = (try Hopper(maxEpisodeSteps: 50), try Walker2d(maxEpisodeSteps: 50), try HalfCheetah(maxEpisodeSteps: 50))
        let (ant, humanoid) = (try Ant(maxEpisodeSteps: 50), try Humanoid(maxEpisodeSteps: 50))
        try SnapshotTests.check({ hopper }, dimension: 3)
        try SnapshotTests.check({ walker }, dimension: 6)
        try SnapshotTests.check({ cheetah }, dimension: 6)
        try SnapshotTests.check({ ant }, dimension: 8)
        try SnapshotTests.check({ humanoid }, dimension: 17)
    }

    @Test func aSnapshotOfAnotherTaskIsRefused() throws {
        var hopper = try Hopper()
        _ = hopper.reset(seed: 1)
        var walker = try Walker2d()
        #expect(throws: EnvironmentError.self) { try walker.restore(hopper.snapshot()) }
        var snapshot = hopper.snapshot()
        snapshot.values["qvel.2"] = .nan
        #expect(throws: EnvironmentError.self) { try hopper.restore(snapshot) }
    }
}
