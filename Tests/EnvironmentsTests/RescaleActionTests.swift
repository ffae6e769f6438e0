import Testing
import Environments

@Suite struct RescaleActionTests {
    @Test func exposesTheUnitBoxAndPassesTheRestThrough() {
        let wrapped = Pendulum(maxEpisodeSteps: 17).rescaledToUnitActions()
        #expect(wrapped.actionSpace == BoxSpace(shape: [1], low: -1, high: 1))
        #expect(wrapped.observationSpace == Pendulum().observationSpace)
        #expect(wrapped.maxEpisodeSteps == 17)
    }

    @Test func unitActionsDriveTheBaseWithScaledActions() {
        // Pendulum torques are [-2, 2]: unit 0.5 is torque 1, unit 1.5 clips to torque 2.
        for (unit, torque): (Float, Float) in [(0.5, 1), (-1, -2), (1.5, 2), (-7, -2), (0, 0)] {
            var base = Pendulum()
            _ = base.reset(seed: 42)
            var wrapped = RescaleAction(base)
            let expected = base.step(action: [torque])
            let got = wrapped.step(action: [unit])
            #expect(got == expected, "unit \(unit) should act as torque \(torque)")
            #expect(wrapped.elapsedSteps == 1)
        }
    }

    @Test func mountainCarForceIsAlreadyInTheUnitBox() {
        // The identity case of the affine map: in-range actions are untouched.
        var base = MountainCarContinuous()
        base.setState(position: -0.5, velocity: 0.01)
        var wrapped = RescaleAction(base)
        #expect(wrapped.step(action: [0.3]) == base.step(action: [0.3]))
    }

    @Test func resetIsTheBaseReset() {
        var wrapped = MountainCarContinuous().rescaledToUnitActions()
        var base = MountainCarContinuous()
        #expect(wrapped.reset(seed: 9) == base.reset(seed: 9))
    }
}
