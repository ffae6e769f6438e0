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

    // MARK: - Unstable simulations

    @Test func anUnstableStepEndsTheEpisodeAndIsDroppedNotSent() {
        let start = ContinuousClock.now
        var loop = EnvironmentLoop(environments: [BlowsUp(unstableAt: 3)], seeds: [7], now: start)
        var adder = TransitionAdder(actorID: 0, runID: 1, observationSize: 1, actionSize: 1, batchSize: 100,
                                    interval: .seconds(100))
        var episodes: [EpisodeSummary] = []
        for _ in 0 ..< 5 { episodes += loop.step(actions: [0], policyVersion: 1, adder: &adder, now: start).episodes }
        let batch = adder.flush()
        // Steps 1, 2 of the first episode and steps 1, 2 of the second: the unstable third is not sent.
        #expect(batch?.count == 4)
        #expect(loop.unstableEpisodes == 1)
        #expect(episodes.count == 1 && episodes[0].length == 3)
        #expect(batch?.observations.allSatisfy(\.isFinite) == true)
        #expect(batch?.doneFlags.allSatisfy { $0 == 0 } == true, "no terminal transition from the blown-up state")
    }
}

/// A one-dimensional environment whose simulation "blows up" on step `unstableAt` of each episode.
private struct BlowsUp: Environment {
    let unstableAt: Int
    var elapsedSteps = 0
    let observationSpace = BoxSpace(shape: [1], low: -10, high: 10)
    let actionSpace = BoxSpace(shape: [1], low: -1, high: 1)
    let maxEpisodeSteps = 1000

    mutating func reset(seed: UInt64?) -> [Float] {
        elapsedSteps = 0
        return [0]
    }

    mutating func step(action: [Float]) -> StepResult {
        elapsedSteps += 1
        let unstable = elapsedSteps == unstableAt
        return StepResult(observation: [Float(elapsedSteps)], reward: unstable ? 0 : 1, terminated: unstable,
                          truncated: false, info: StepInfo(simulationUnstable: unstable))
    }
}
