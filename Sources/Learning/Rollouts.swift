import Environments
import Tensor

/// How one evaluation or check episode ended.
public struct EpisodeOutcome: Sendable, Equatable {
    /// The undiscounted sum of rewards.
    public var episodeReturn: Double
    /// Steps taken.
    public var length: Int
    /// True when the episode reached a terminal state, false when the time limit cut it.
    public var terminated: Bool
    /// For goal-reaching tasks, the goal reached on the last step.
    public var reachedGoal: Int?
}

/// Runs whole episodes of a policy, one per seed, all in lockstep.
///
/// Every still-running episode's observation goes into one `act` call, so N episodes
/// cost about as many batched policy calls as the longest episode has steps instead of
/// N times that: a batch of ten rows costs little more than one row. Each episode runs in
/// its own copy of `environment` (environments are values), reset with its seed, so the
/// caller's instance is never stepped. Deterministic actions do not depend on which rows
/// share a batch, so the outcomes equal those of sequential episodes.
public enum Rollouts {
    public static func run(
        agent: any TrainableAgent, environment: any Environment, seeds: [UInt64], deterministic: Bool,
        rng: inout Xoshiro256
    ) -> [EpisodeOutcome] {
        let observationDimension = environment.observationSpace.count
        let actionDimension = environment.actionSpace.count
        var environments = Array(repeating: environment, count: seeds.count)
        var observations = seeds.indices.map { environments[$0].reset(seed: seeds[$0]) }
        var outcomes = Array(
            repeating: EpisodeOutcome(episodeReturn: 0, length: 0, terminated: false, reachedGoal: nil),
            count: seeds.count)
        var running = Array(seeds.indices)
        var batch: [Float] = []
        batch.reserveCapacity(seeds.count * observationDimension)

        while !running.isEmpty {
            batch.removeAll(keepingCapacity: true)
            for episode in running { batch.append(contentsOf: observations[episode]) }
            let actions = agent.act(observations: batch, count: running.count, deterministic: deterministic, rng: &rng)
            var stillRunning: [Int] = []
            for (row, episode) in running.enumerated() {
                let action = Array(actions[row * actionDimension..<(row + 1) * actionDimension])
                let result = environments[episode].step(action: action)
                outcomes[episode].episodeReturn += result.reward
                outcomes[episode].length += 1
                observations[episode] = result.observation
                if result.isLast {
                    outcomes[episode].terminated = result.terminated
                    outcomes[episode].reachedGoal = result.info.reachedGoal
                } else {
                    stillRunning.append(episode)
                }
            }
            running = stillRunning
        }
        return outcomes
    }
}

/// The result of evaluating a policy over several seeded episodes.
public struct EvaluationResult: Sendable, Equatable {
    /// One outcome per episode, in seed order.
    public var episodes: [EpisodeOutcome]

    /// The mean return, reported as `Test/return`.
    public var meanReturn: Double {
        episodes.isEmpty ? 0 : episodes.map(\.episodeReturn).reduce(0, +) / Double(episodes.count)
    }

    /// The population standard deviation of the returns.
    public var standardDeviation: Double {
        guard !episodes.isEmpty else { return 0 }
        let mean = meanReturn
        let squares = episodes.map { ($0.episodeReturn - mean) * ($0.episodeReturn - mean) }
        return (squares.reduce(0, +) / Double(episodes.count)).squareRoot()
    }

    /// The mean episode length.
    public var meanLength: Double {
        episodes.isEmpty ? 0 : Double(episodes.map(\.length).reduce(0, +)) / Double(episodes.count)
    }
}

/// The evaluation protocol of docs/algorithm.md §5.4: episodes reset with seeds 0 ..< N.
public enum PolicyEvaluation {
    /// Runs `episodes` episodes with seeds 0 ..< episodes in copies of `environment`.
    ///
    /// `rng` only matters for stochastic evaluation; pass a stream of its own so that
    /// evaluating does not shift the training run's exploration noise.
    public static func evaluate(
        agent: any TrainableAgent, environment: any Environment, episodes: Int, deterministic: Bool,
        rng: inout Xoshiro256
    ) -> EvaluationResult {
        let seeds = (0..<UInt64(max(episodes, 0))).map { $0 }
        return EvaluationResult(
            episodes: Rollouts.run(
                agent: agent, environment: environment, seeds: seeds, deterministic: deterministic, rng: &rng))
    }
}
