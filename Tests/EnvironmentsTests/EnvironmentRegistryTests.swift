import Testing
import Environments

@Suite struct EnvironmentRegistryTests {
    // MARK: - Known names

    @Test func buildsEachBuiltInEnvironment() throws {
        #expect(EnvironmentRegistry.names == [
            "pendulum", "mountaincar", "multigoal", "hopper", "walker2d", "halfcheetah", "ant", "humanoid",
        ])
        #expect(try EnvironmentRegistry.makeEnvironment(name: "pendulum") is Pendulum)
        #expect(try EnvironmentRegistry.makeEnvironment(name: "mountaincar") is MountainCarContinuous)
        #expect(try EnvironmentRegistry.makeEnvironment(name: "multigoal") is MultiGoal)
    }

    @Test func acceptsGymnasiumIDsInAnyCase() throws {
        #expect(try EnvironmentRegistry.makeEnvironment(name: "Pendulum-v1") is Pendulum)
        #expect(try EnvironmentRegistry.makeEnvironment(name: "MountainCarContinuous-v0") is MountainCarContinuous)
        #expect(try EnvironmentRegistry.makeEnvironment(name: "MultiGoal") is MultiGoal)
    }

    @Test func defaultAndOverriddenTimeLimits() throws {
        #expect(try EnvironmentRegistry.makeEnvironment(name: "pendulum").maxEpisodeSteps == 200)
        #expect(try EnvironmentRegistry.makeEnvironment(name: "multigoal", maxEpisodeSteps: 100).maxEpisodeSteps == 100)
    }

    @Test func unitActionEnvironmentsActInTheUnitBox() throws {
        var environment = try EnvironmentRegistry.makeUnitActionEnvironment(name: "pendulum")
        #expect(environment.actionSpace == BoxSpace(shape: [1], low: -1, high: 1))
        _ = environment.reset(seed: 3)
        #expect(environment.step(action: [1]).observation.count == 3)
    }

    // MARK: - Errors

    @Test func unknownNameListsTheKnownOnes() {
        #expect(throws: EnvironmentError.unknownEnvironment(
            name: "cartpole", known: EnvironmentRegistry.names)
        ) {
            try EnvironmentRegistry.makeEnvironment(name: "cartpole")
        }
        let message = EnvironmentError.unknownEnvironment(name: "cartpole", known: EnvironmentRegistry.names).description
        #expect(message == "unknown environment 'cartpole'; choose one of: pendulum, mountaincar, multigoal,"
            + " hopper, walker2d, halfcheetah, ant, humanoid")
    }

    @Test func rejectsAnEmptyTimeLimit() {
        #expect(throws: EnvironmentError.invalidMaxEpisodeSteps(0)) {
            try EnvironmentRegistry.makeEnvironment(name: "multigoal", maxEpisodeSteps: 0)
        }
    }
}
