import Testing
@testable import Environments

@Suite struct PendulumTests {
    // MARK: - Angle normalisation

    @Test func normalizeAngleWrapsIntoMinusPiToPi() {
        #expect(abs(Pendulum.normalizeAngle(3 * .pi / 2) - -Double.pi / 2) < 1e-12)
        #expect(abs(Pendulum.normalizeAngle(-3 * .pi / 2) - Double.pi / 2) < 1e-12)
        #expect(abs(Pendulum.normalizeAngle(5 * .pi) - -Double.pi) < 1e-12)
        #expect(Pendulum.normalizeAngle(0.5) == 0.5)
    }

    // MARK: - Dynamics

    @Test func uprightAtRestWithNoTorqueCostsNothing() {
        var pendulum = Pendulum()
        pendulum.setState(theta: 0, thetaDot: 0)
        let result = pendulum.step(action: [0])
        #expect(result.reward == 0)
        #expect(result.observation == [1, 0, 0])
    }

    @Test func speedIsClippedAtEight() {
        var pendulum = Pendulum()
        pendulum.setState(theta: .pi / 2, thetaDot: 7.9)
        _ = pendulum.step(action: [2])
        #expect(pendulum.thetaDot == 8)
        #expect(pendulum.theta == .pi / 2 + 8 * 0.05)
    }

    @Test func rewardPenalisesAngleSpeedAndTorque() {
        var pendulum = Pendulum()
        pendulum.setState(theta: 1, thetaDot: -2)
        let result = pendulum.step(action: [5])  // clipped to 2
        #expect(abs(result.reward - -(1 + 0.1 * 4 + 0.001 * 4)) < 1e-9)
    }
}
