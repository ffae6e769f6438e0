import ArgumentParser
import Foundation
import CommandLineOptions
import Learning

/// `meow train`: the single-process trainer of issue 3.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a MEow policy on a built-in environment.")

    @Option(help: "Environment and preset: \(ConfigResolver.trainableEnvironments.joined(separator: ", ")).")
    var env = "pendulum"
    @Option(help: "Where config.json, metrics.csv, policy.safetensors and summary.json go (default runs/<env>-seed<seed>).")
    var runDir: String?
    @Flag(help: "Reuse a run directory that already holds a run.") var overwrite = false
    @Flag(help: "No progress line on stderr.") var quiet = false
    @Option(help: "Stochastic rollouts for the MultiGoal check after training on multigoal.")
    var multigoalRollouts = 200
    @Option(help: "Actor processes: 0 trains in this process; N > 0 starts meow-learner and N meow-actor processes.")
    var actors = 0
    @Option(help: "Environment copies per actor process (with --actors).") var envsPerActor = 1

    @OptionGroup(title: "MEow hyperparameters (default: the --env preset)") var hyperparameters: MEowOptions
    @OptionGroup(title: "BLAS") var blas: BLASOptions

    func validate() throws {
        _ = try resolve { () throws(ConfigurationError) in
            try ConfigResolver.resolve(environmentName: env, overrides: hyperparameters.overrides)
        }
        if actors < 0 || envsPerActor < 1 {
            throw ValidationError("Invalid --actors or --envs-per-actor: expected --actors >= 0 and --envs-per-actor >= 1.")
        }
        if multigoalRollouts < 1 {
            throw ValidationError(
                "Invalid --multigoal-rollouts: expected at least 1, got \(multigoalRollouts); change --multigoal-rollouts.")
        }
    }

    func run() throws {
        if actors > 0 {
            let run = OneMachineRun(
                environment: env, actors: actors, environmentsPerActor: envsPerActor,
                runDirectory: runDir ?? "runs/\(env)-distributed", hyperparameters: hyperparameters,
                learnerFlags: OneMachineRun.passThrough(Array(CommandLine.arguments.dropFirst())))
            let status = try run.run()
            if status != 0 { throw ExitCode(status) }
            return
        }
        let resolved = try resolve { () throws(ConfigurationError) in
            try ConfigResolver.resolve(environmentName: env, overrides: hyperparameters.overrides)
        }
        let config = resolved.config
        blas.loadAndLog()
        let directory = URL(fileURLWithPath: runDir ?? "runs/\(resolved.environmentName)-seed\(config.seed)")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print("environment: \(resolved.environmentName), run directory: \(directory.path)")
        print(String(decoding: try encoder.encode(config), as: UTF8.self))

        let stop = StopFlag()
        let handlers = stop.installSignalHandlers()
        defer { handlers.cancel() }
        let trainer = try LocalTrainer(
            config: config, environmentName: resolved.environmentName, runDirectory: directory,
            options: TrainerOptions(progress: quiet ? .off : .automatic, overwrite: overwrite, stop: stop))
        let summary = try trainer.run()

        if summary.interrupted { log("stopped by signal after \(summary.steps) steps; policy and metrics saved") }
        let evaluation = summary.evaluations.last.map { String(format: "%.2f at step %d", $0.meanReturn, $0.step) } ?? "-"
        print(
            "steps \(summary.steps), updates \(summary.updates) (\(summary.skippedUpdates) skipped), "
                + "episodes \(summary.episodes), last Test/return \(evaluation), "
                + String(format: "%.1f SPS, %.1f s", summary.stepsPerSecond, summary.elapsedSeconds))
        print("policy: \(summary.policyPath)")
        if resolved.environmentName == "multigoal" {
            print(try MultiGoalCheck.run(agent: trainer.agent, rollouts: multigoalRollouts))
        }
    }
}
