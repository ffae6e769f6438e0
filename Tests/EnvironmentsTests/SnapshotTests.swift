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
}
