import Acting
import Environments
import Testing
import Wire

@Suite struct EnvironmentLoopTests {
    @Test func everyStepOfEveryCopyBecomesATransitionAndEpisodesAreReported() throws {
        let environments = try (0 ..< 2).map { _ in
            try EnvironmentRegistry.makeUnitActionEnvironment(name: "pendulum", maxEpisodeSteps: 5)
        }
        let start = ContinuousClock.now
        var loop = EnvironmentLoop(environments: environments, seeds: [1, 2], now: start)
        var adder = TransitionAdder(actorID: 0, runID: 1, observationSize: 3, actionSize: 1, batchSize: 4,
                                    interval: .seconds(100))
        var batches: [Wire.TransitionBatch] = []
        var episodes: [EpisodeSummary] = []
        for _ in 0 ..< 6 {
            let previous = loop.batchedObservations
            let step = loop.step(actions: [0.5, -0.5], policyVersion: 2, adder: &adder, now: start)
            batches += step.batches
            episodes += step.episodes
            #expect(previous.count == 6)
        }
        if let rest = adder.flush() { batches.append(rest) }
        let transitions = batches.reduce(0) { $0 + $1.count }
        #expect(transitions == 12)
        // Each copy's first episode is truncated at 5 steps: reported with its reset seed.
        #expect(episodes.count == 2)
        #expect(Set(episodes.map(\.seed)) == [1, 2])
        #expect(episodes.allSatisfy { $0.length == 5 })
        let flags = batches.flatMap(\.doneFlags)
        #expect(flags.filter { $0 == DoneFlags.truncated.rawValue }.count == 2)
        #expect(Set(batches.flatMap(\.episodeIDs)) == [0, 1, 2, 3])
        // Within a copy, s' of one step is s of the next (until the reset).
        let first = batches[0]
        #expect(Array(first.nextObservations[0 ..< 3]) == Array(first.observations[6 ..< 9]))
    }
}
