import Environments
import Telemetry
import Wire

/// Steps K environment copies in lockstep and turns each step into transitions.
///
/// The caller chooses the K actions at once (one batched inference); the loop steps
/// every copy, feeds the adder, resets finished episodes and reports them. Episodes
/// follow gymnasium: a truncated transition keeps the real final observation as its
/// next observation and is not marked terminal.
public struct EnvironmentLoop: Sendable {
    private var environments: [any Environment]
    private var observations: [[Float]]
    private var episodeIDs: [UInt64]
    private var stepIndices: [UInt32]
    private var returns: [Double]
    private var startedAt: [ContinuousClock.Instant]
    private var resetSeeds: [UInt64]
    private var nextEpisodeID: UInt64 = 0
    /// Episodes an unstable simulation ended so far; each one's last transition was dropped.
    public private(set) var unstableEpisodes = 0
    public let observationSize: Int
    public let actionSize: Int

    /// Resets copy k with `seeds[k]`; later episodes continue each copy's own generator.
    public init(environments: [any Environment], seeds: [UInt64], now: ContinuousClock.Instant) {
        precondition(!environments.isEmpty && seeds.count == environments.count, "one seed per environment")
        self.environments = environments
        observationSize = environments[0].observationSpace.count
        actionSize = environments[0].actionSpace.count
        observations = []
        for index in environments.indices {
            observations.append(self.environments[index].reset(seed: seeds[index]))
        }
        episodeIDs = Array(0 ..< UInt64(environments.count))
        nextEpisodeID = UInt64(environments.count)
        stepIndices = Array(repeating: 0, count: environments.count)
        returns = Array(repeating: 0, count: environments.count)
        startedAt = Array(repeating: now, count: environments.count)
        resetSeeds = seeds
    }

    /// Environment copies.
    public var count: Int { environments.count }

    /// The current observations, row-major [K × d_o], for one batched inference.
    public var batchedObservations: [Float] { observations.flatMap { $0 } }

    /// Steps every copy with its row of `actions` ([K × d_a], in [-1, 1]).
    ///
    /// Returns the batches the adder filled and the episodes that ended.
    public mutating func step(actions: [Float], policyVersion: UInt64, adder: inout TransitionAdder,
                              now: ContinuousClock.Instant) -> (batches: [Wire.TransitionBatch], episodes: [EpisodeSummary]) {
        precondition(actions.count == count * actionSize, "one action row per environment")
        var batches: [Wire.TransitionBatch] = []
        var episodes: [EpisodeSummary] = []
        for index in environments.indices {
            let action = Array(actions[index * actionSize ..< (index + 1) * actionSize])
            let result = environments[index].step(action: action)
            returns[index] += result.reward
            // An unstable simulation's last step is not the dynamics' (docs/mujoco.md): the episode
            // ends there, and that transition is counted and dropped instead of sent.
            if result.info.simulationUnstable {
                unstableEpisodes += 1
            } else if let batch = adder.add(
                observation: observations[index], action: action, reward: Float(result.reward),
                nextObservation: result.observation, terminated: result.terminated, truncated: result.truncated,
                episodeID: episodeIDs[index], stepIndex: stepIndices[index], policyVersion: policyVersion, now: now) {
                batches.append(batch)
            }
            stepIndices[index] += 1
            if result.isLast {
                let seconds = max(0, (now - startedAt[index]).seconds)
                episodes.append(EpisodeSummary(episodeID: episodeIDs[index], seed: resetSeeds[index],
                                               episodeReturn: returns[index], seconds: seconds,
                                               length: stepIndices[index]))
                observations[index] = environments[index].reset(seed: nil)
                episodeIDs[index] = nextEpisodeID
                nextEpisodeID += 1
                stepIndices[index] = 0
                returns[index] = 0
                startedAt[index] = now
                resetSeeds[index] = EpisodeSummary.noSeed
            } else {
                observations[index] = result.observation
            }
        }
        return (batches, episodes)
    }
}
