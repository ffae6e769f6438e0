import ArgumentParser
import Environments
import Foundation
import CommandLineOptions
import Learning
import Logging
import Tensor

/// Options shared by the commands that load a saved policy.
struct PolicyOptions: ParsableArguments {
    @Option(help: "A policy.safetensors, a checkpoint directory or a run directory; the environment, model file and network come from it.")
    var policy: String

    func validate() throws {
        if !FileManager.default.fileExists(atPath: policy) {
            throw ValidationError("Policy file \(policy) does not exist; pass the path of a saved policy to --policy.")
        }
    }

    /// The run's config (or the preset), the environment it trained on, and an agent holding the saved weights.
    ///
    /// `name` and `modelPath` default to what the policy records (`SavedPolicy`).
    func loadAgent(environment name: String?, modelPath: String? = nil, overrides: ConfigOverrides = ConfigOverrides())
        throws -> (ResolvedConfiguration, any Environment, any TrainableAgent)
    {
        let resolved = try ConfigResolver.resolve(
            policyPath: policy, environmentName: name, overrides: overrides, modelPath: modelPath)
        let environment = try EnvironmentRegistry.makeUnitActionEnvironment(
            name: resolved.environmentName, modelPath: resolved.modelPath)
        let file = resolved.policyFile ?? policy
        let spaces = (observation: environment.observationSpace.count, action: environment.actionSpace.count)
        if let saved = resolved.policyDimensions, saved.observation != spaces.observation || saved.action != spaces.action {
            throw LearningError.unusablePolicy(
                path: file,
                reason: "it was trained with \(saved.observation) observation and \(saved.action) action dimensions "
                    + "(observation_dimension, action_dimension in its metadata), but \(resolved.environmentName) has "
                    + "\(spaces.observation) and \(spaces.action); drop --env or pass the environment it was trained on")
        }
        let agent = try DefaultAgent.make(
            config: resolved.config, observationDimension: spaces.observation, actionDimension: spaces.action)
        do {
            try agent.loadPolicy(from: file)
        } catch {
            throw LearningError.unusablePolicy(path: file, reason: "\(error)")
        }
        return (resolved, environment, agent)
    }
}

/// `meow evaluate`: mean return of a saved policy over seeded episodes.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate", abstract: "Print the mean return of a saved policy over seeded episodes.")

    @OptionGroup var source: PolicyOptions
    @Option(help: "Environment to evaluate in (default: the one the policy was trained on, from its metadata).")
    var env: String?
    @Option(help: "MuJoCo model file (MJCF) to evaluate in instead of the task's built-in model (default: the policy's).")
    var model: String?
    @Option(help: "Episodes, reset with seeds 0 ..< N.") var episodes = 10
    @Flag(help: "Sample actions instead of taking the deterministic z₀ = 0 action.") var stochastic = false
    @Option(help: "Seed of the action noise for --stochastic.") var noiseSeed: UInt64 = 0
    @OptionGroup(title: "BLAS") var blas: BLASOptions
    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        if episodes < 1 {
            throw ValidationError("Invalid --episodes: expected at least 1, got \(episodes); change --episodes.")
        }
    }

    func run() throws {
        let logger = logging.bootstrap(label: "meow.evaluate")
        blas.loadAndLog()
        let (resolved, environment, agent) = try source.loadAgent(environment: env, modelPath: model)
        let model = resolved.modelPath.map { " (model \($0))" } ?? ""
        logger.info("evaluating \(resolved.environmentName)\(model) over seeds 0..<\(episodes)")
        var rng = Xoshiro256(seed: noiseSeed)
        let result = PolicyEvaluation.evaluate(
            agent: agent, environment: environment, episodes: episodes, deterministic: !stochastic, rng: &rng)
        for (seed, episode) in result.episodes.enumerated() {
            logger.info("seed \(seed): return \(String(format: "%.2f", episode.episodeReturn)), length \(episode.length)")
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
    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        if rollouts < 1 {
            throw ValidationError("Invalid --rollouts: expected at least 1, got \(rollouts); change --rollouts.")
        }
        if maxSteps < 1 {
            throw ValidationError("Invalid --max-steps: expected at least 1, got \(maxSteps); change --max-steps.")
        }
    }

    func run() throws {
        _ = logging.bootstrap(label: "meow.multigoal-check")
        blas.loadAndLog()
        let (_, _, agent) = try source.loadAgent(environment: "multigoal", overrides: hyperparameters.overrides)
        let report = try MultiGoalCheck.run(agent: agent, rollouts: rollouts, maxSteps: maxSteps, seed: noiseSeed)
        print(report)
        if !report.passes() { throw ExitCode(1) }
    }
}
