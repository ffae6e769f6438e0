import ArgumentParser
import Environments
import Foundation
import CommandLineOptions
import Learning
import Tensor

/// Options shared by the commands that load a saved policy.
struct PolicyOptions: ParsableArguments {
    @Option(help: "A policy.safetensors written by `meow train` (its config.json is read when present).")
    var policy: String

    func validate() throws {
        if !FileManager.default.fileExists(atPath: policy) {
            throw ValidationError("Policy file \(policy) does not exist; pass the path of a saved policy to --policy.")
        }
    }

    /// The run's config (or the preset) and an agent holding the saved weights.
    func loadAgent(environment name: String, overrides: ConfigOverrides) throws
        -> (ResolvedConfiguration, any TrainableAgent)
    {
        let resolved = try ConfigResolver.resolve(policyPath: policy, environmentName: name, overrides: overrides)
        let environment = try EnvironmentRegistry.makeUnitActionEnvironment(name: resolved.environmentName)
        let agent = try DefaultAgent.make(
            config: resolved.config, observationDimension: environment.observationSpace.count,
            actionDimension: environment.actionSpace.count)
        try agent.loadPolicy(from: policy)
        return (resolved, agent)
    }
}

/// `meow evaluate`: mean return of a saved policy over seeded episodes.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Print the mean return of a saved policy over seeded episodes.")

    @OptionGroup var source: PolicyOptions
    @Option(help: "Environment the policy was trained on.") var env = "pendulum"
    @Option(help: "Episodes, reset with seeds 0 ..< N.") var episodes = 10
    @Flag(help: "Sample actions instead of taking the deterministic z₀ = 0 action.") var stochastic = false
    @Option(help: "Seed of the action noise for --stochastic.") var noiseSeed: UInt64 = 0
    @OptionGroup(title: "MEow hyperparameters (default: the run's config.json, else the --env preset)")
    var hyperparameters: MEowOptions
    @OptionGroup(title: "BLAS") var blas: BLASOptions

    func validate() throws {
        if episodes < 1 {
            throw ValidationError("Invalid --episodes: expected at least 1, got \(episodes); change --episodes.")
        }
    }

    func run() throws {
        blas.loadAndLog()
        let (resolved, agent) = try source.loadAgent(environment: env, overrides: hyperparameters.overrides)
        var rng = Xoshiro256(seed: noiseSeed)
        let result = PolicyEvaluation.evaluate(
            agent: agent,
            environment: try EnvironmentRegistry.makeUnitActionEnvironment(name: resolved.environmentName),
            episodes: episodes, deterministic: !stochastic, rng: &rng)
        for (seed, episode) in result.episodes.enumerated() {
            log("seed \(seed): return \(String(format: "%.2f", episode.episodeReturn)), length \(episode.length)")
        }
        let mode = stochastic ? "stochastic" : "deterministic"
        print(
            "mean return \(String(format: "%.2f ± %.2f", result.meanReturn, result.standardDeviation)) "
                + "over \(result.episodes.count) episodes (\(mode))")
    }
}

/// `meow multigoal-check`: the multimodality test of docs/algorithm.md §8.4 on a saved MultiGoal policy.
struct MultiGoalCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multigoal-check",
        abstract: "Count which MultiGoal goals stochastic rollouts reach; exit 1 unless 3 of 4 reach 5%.")

    @OptionGroup var source: PolicyOptions
    @Option(help: "Stochastic rollouts, reset with seeds 0 ..< N.") var rollouts = 200
    @Option(help: "Step cap per rollout.") var maxSteps = MultiGoalCheck.defaultMaxSteps
    @Option(help: "Seed of the action noise.") var noiseSeed: UInt64 = 0
    @OptionGroup(title: "MEow hyperparameters (default: the run's config.json, else the multigoal preset)")
    var hyperparameters: MEowOptions
    @OptionGroup(title: "BLAS") var blas: BLASOptions

    func validate() throws {
        if rollouts < 1 {
            throw ValidationError("Invalid --rollouts: expected at least 1, got \(rollouts); change --rollouts.")
        }
        if maxSteps < 1 {
            throw ValidationError("Invalid --max-steps: expected at least 1, got \(maxSteps); change --max-steps.")
        }
    }

    func run() throws {
        blas.loadAndLog()
        let (_, agent) = try source.loadAgent(environment: "multigoal", overrides: hyperparameters.overrides)
        let report = try MultiGoalCheck.run(agent: agent, rollouts: rollouts, maxSteps: maxSteps, seed: noiseSeed)
        print(report)
        if !report.passes() { throw ExitCode(1) }
    }
}
