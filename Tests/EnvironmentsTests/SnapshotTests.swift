import Testing

@testable import Environments

@Suite struct SnapshotTests {
    /// Steps `environment` with a fixed action pattern, resetting at episode ends; returns every result.
    static func roll<E: Environment>(_ environment: inout E, steps: Int, dimension: Int) -> [StepResult] {
        (0..<steps).map { i in
            let action = (0..<dimension).map { Float(($0 + i) % 7) / 3 - 1 }
            let result = environment.step(action: action)
            if result.isLast { _ = environment.reset(seed: nil) }
            return result
        }
    }

    /// A snapshot taken mid-run, restored into a fresh instance, continues identically (resets included).
    static func check<E: SnapshotEnvironment>(_ make: () -> E, dimension: Int) throws {
        var original = make()
        _ = original.reset(seed: 4)
        _ = roll(&original, steps: 37, dimension: dimension)
        let snapshot = original.snapshot()
        var copy = make()
        _ = copy.reset(seed: 999)
        try copy.restore(snapshot)
        #expect(copy.elapsedSteps == original.elapsedSteps)
        #expect(roll(&copy, steps: 400, dimension: dimension) == roll(&original, steps: 400, dimension: dimension))
        #expect(copy.snapshot() == original.snapshot())
    }

    @Test func builtInEnvironmentsContinueExactlyFromASnapshot() throws {
        try Self.check({ Pendulum(maxEpisodeSteps: 50) }, dimension: 1)
        try Self.check({ MountainCarContinuous(maxEpisodeSteps: 60) }, dimension: 1)
        try Self.check({ MultiGoal(maxEpisodeSteps: 30) }, dimension: 2)
        try Self.check({ Pendulum(maxEpisodeSteps: 50).rescaledToUnitActions() }, dimension: 1)
    }

    @Test func aSnapshotOfAnotherKindOrOutOfRangeIsRefused() throws {
        var pendulum = Pendulum()
        _ = pendulum.reset(seed: 1)
        var car = MountainCarContinuous()
        #expect(throws: EnvironmentError.self) { try car.restore(pendulum.snapshot()) }
        var snapshot = pendulum.snapshot()
        snapshot.elapsedSteps = 10_000
        #expect(throws: EnvironmentError.self) { try pendulum.restore(snapshot) }
        snapshot = pendulum.snapshot()
        snapshot.generator = [0, 0, 0, 0]
        #expect(throws: EnvironmentError.self) { try pendulum.restore(snapshot) }
    }

    /// A checkpoint from before PCG64 holds four xoshiro256** words; with an even last
    /// word it cannot be a PCG64 increment and is refused, saying why.
    @Test func aPrePCG64GeneratorStateWithAnEvenIncrementIsRefused() throws {
        var pendulum = Pendulum()
        _ = pendulum.reset(seed: 1)
        var snapshot = pendulum.snapshot()
        snapshot.generator = [0x9E37_79B9_7F4A_7C15, 0xBF58_476D_1CE4_E5B9, 0x94D0_49BB_1331_11EB, 0x2545_F491_4F6C_DD1C]
        let error = #expect(throws: EnvironmentError.self) { try pendulum.restore(snapshot) }
        #expect(error?.description.contains("PCG64") == true)
    }
}
