import Testing
import Environments

/// Seeded resets are reproducible; unseeded ones continue the environment's own stream.
@Suite struct ResetTests {
    // MARK: - Reproducibility

    @Test func sameSeedGivesSameStartAndTrajectory() {
        func rollout(_ seed: UInt64) -> [[Float]] {
            var pendulum = Pendulum()
            var observations = [pendulum.reset(seed: seed)]
            for t in 0..<20 { observations.append(pendulum.step(action: [Float(t % 5) - 2]).observation) }
            return observations
        }
        #expect(rollout(123) == rollout(123))
        #expect(rollout(123) != rollout(124))
    }

    @Test func reseedingRestartsTheStream() {
        var first = MountainCarContinuous()
        let a = first.reset(seed: 77)
        _ = first.reset()
        _ = first.step(action: [1])
        #expect(first.reset(seed: 77) == a)
    }

    @Test func unseededResetsContinueTheStream() {
        var toy = MultiGoal()
        let first = toy.reset(seed: 5)
        let second = toy.reset()
        #expect(first != second)
        var again = MultiGoal()
        _ = again.reset(seed: 5)
        #expect(again.reset() == second)
    }

    // MARK: - Start distributions

    @Test func pendulumStartsUniformlyInGymnasiumsBox() {
        var pendulum = Pendulum()
        var thetas: [Double] = []
        for seed in 0..<400 as Range<UInt64> {
            _ = pendulum.reset(seed: seed)
            #expect(abs(pendulum.theta) <= Double.pi)
            #expect(abs(pendulum.thetaDot) <= 1)
            thetas.append(pendulum.theta)
        }
        // Uniform on [-π, π]: both halves are well populated and the extremes are near ±π.
        #expect(thetas.filter { $0 < 0 }.count > 150)
        #expect(thetas.filter { $0 > 0 }.count > 150)
        #expect(thetas.max()! > 2.8 && thetas.min()! < -2.8)
    }

    @Test func mountainCarStartsAtRestInTheValley() {
        var car = MountainCarContinuous()
        _ = car.reset(seed: 0)
        var positions: [Double] = []
        for _ in 0..<300 {
            let observation = car.reset()
            #expect(observation[1] == 0)
            #expect(car.position >= -0.6 && car.position < -0.4)
            positions.append(car.position)
        }
        #expect(positions.max()! > -0.42 && positions.min()! < -0.58)
    }

    @Test func multiGoalStartsNearTheOrigin() {
        var toy = MultiGoal()
        _ = toy.reset(seed: 8)
        var sum: SIMD2<Double> = .zero
        var sumSquares: SIMD2<Double> = .zero
        let n = 4000.0
        for _ in 0..<Int(n) {
            _ = toy.reset()
            sum += toy.position
            sumSquares += toy.position * toy.position
        }
        let mean = sum / n
        let std = (sumSquares / n - mean * mean).squareRoot()
        // Standard error of the mean is 0.1 / sqrt(4000) ≈ 0.0016.
        #expect(abs(mean.x) < 0.01 && abs(mean.y) < 0.01)
        #expect(abs(std.x - 0.1) < 0.01 && abs(std.y - 0.1) < 0.01)
    }
}
