import Testing
import Environments

/// Seeded resets land on gymnasium's start states bit for bit, and unseeded ones continue its stream.
@Suite struct GymnasiumResetTests {
    // MARK: - Pendulum-v1

    @Test func pendulumResetsEqualGymnasiumsForSeedsZeroToNine() throws {
        try checkResets(try NumpyStreams.load().pendulum, make: { Pendulum() }) { [$0.theta, $0.thetaDot] }
    }

    // MARK: - MountainCarContinuous-v0

    @Test func mountainCarResetsEqualGymnasiumsForSeedsZeroToNine() throws {
        try checkResets(try NumpyStreams.load().mountaincar, make: { MountainCarContinuous() }) {
            [$0.position, $0.velocity]
        }
    }

    // MARK: - Helpers

    /// Resets a fresh environment with each recorded seed, then once without a seed,
    /// and compares the internal float64 state and the float32 observation each time.
    private func checkResets<E: Environment>(
        _ records: [NumpyStreams.Resets], make: () -> E, state: (E) -> [Double]
    ) throws {
        #expect(records.map(\.seed) == Array(0..<10))
        for record in records {
            var environment = make()
            for (seed, expected) in [(record.seed, record.seeded), (nil, record.unseeded)] {
                let observation = environment.reset(seed: seed)
                let place = "seed \(record.seed), \(seed == nil ? "unseeded" : "seeded") reset"
                #expect(state(environment) == (try expected.state.map(exactDouble)), "\(place): state")
                #expect(observation == (try exactObservation(expected.observation)), "\(place): observation")
            }
        }
    }
}
