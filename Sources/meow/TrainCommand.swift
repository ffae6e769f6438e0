import ArgumentParser
import Foundation
import CommandLineOptions
import Environments
import Learning

/// `meow train`: the single-process trainer, fresh or resumed from a checkpoint.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Train a MEow policy on a built-in environment.",
        discussion: """
            Settings come from the --env preset, then --config FILE, then the flags (docs/configuration.md). \
            --resume DIR continues a run from a checkpoint directory or a run directory's latest checkpoint \
            with its stored config (docs/checkpoints.md).
            """)

    @Option(help: "Environment and preset: \(ConfigResolver.trainableEnvironments.joined(separator: ", ")) (default: the config file's env, else pendulum).")
    var env: String?
    @Option(help: "MuJoCo model file (MJCF) replacing the task's built-in model; its spaces must fit the task (docs/mujoco.md).")
    var model: String?
    @Option(help: "A JSON config file (`meow config` prints a template).") var config: String?
    @Option(help: "Continue from a checkpoint directory, or a run directory's latest checkpoint.") var resume: String?
    @Flag(help: "Reuse a run directory that already holds a run (deletes its metrics and checkpoints).")
    var overwrite = false
    @Flag(help: "No progress line on stderr.") var quiet = false
    @Option(help: "Stochastic rollouts for the MultiGoal check after training on multigoal.")
    var multigoalRollouts = 200
    @Option(help: "Actor processes: 0 trains in this process; N > 0 starts meow-learner and N meow-actor processes.")
    var actors = 0
    @Option(help: "Environment copies per actor process (with --actors).") var envsPerActor = 1

    @OptionGroup(title: "MEow hyperparameters (default: the config file, else the --env preset)")
    var hyperparameters: MEowOptions
    @OptionGroup(title: "Run settings (default: the config file, else the documented defaults)") var runSettings: RunOptions
    @OptionGroup(title: "BLAS") var blas: BLASOptions

    func validate() throws {
        if resume != nil {
            // The distributed learner may extend a resumed run (--steps); everything else stays the checkpoint's.
            var changed = hyperparameters.overrides
            if actors > 0 { changed.totalSteps = nil }
            if config != nil || env != nil || model != nil || changed != ConfigOverrides() {
                throw ValidationError(
                    "A resumed run keeps its checkpoint's environment, model and hyperparameters; drop --config, --env, --model and "
                        + "the hyperparameter flags, or start a new run without --resume.")
            }
            if overwrite {
                throw ValidationError("--overwrite would delete the run being resumed; drop --overwrite.")
            }
        } else {
            _ = try resolved()
        }
        if actors < 0 || envsPerActor < 1 {
            throw ValidationError("Invalid --actors or --envs-per-actor: expected --actors >= 0 and --envs-per-actor >= 1.")
        }
        if multigoalRollouts < 1 {
            throw ValidationError(
                "Invalid --multigoal-rollouts: expected at least 1, got \(multigoalRollouts); change --multigoal-rollouts.")
        }
    }

    func resolved() throws -> ResolvedConfiguration {
        try resolve { () throws(ConfigurationError) in
            try ConfigResolver.resolve(
                environmentName: env, configFile: config, overrides: hyperparameters.overrides,
                runOverrides: runSettings.overrides(blas: blas), modelPath: model)
        }
    }

    func run() throws {
        if actors > 0 {
            let passed = OneMachineRun.passThrough(Array(CommandLine.arguments.dropFirst()))
            var run: OneMachineRun
            if let resume {
                // The learner resumes; its checkpoint says which environment and network the actors need.
                let checkpoint = try CheckpointStore.load(URL(fileURLWithPath: resume))
                let manifest = checkpoint.manifest
                let directory = runSettings.overrides(blas: blas).runDir ?? checkpoint.runDirectory.path
                run = OneMachineRun(
                    environment: manifest.environment, actors: actors, environmentsPerActor: envsPerActor,
                    runDirectory: directory, policy: manifest.config, learnerFlags: passed)
                run.resume = resume
                run.model = manifest.model
            } else {
                let resolved = try resolved()
                run = OneMachineRun(
                    environment: resolved.environmentName, actors: actors, environmentsPerActor: envsPerActor,
                    runDirectory: resolved.settings.runDir ?? "runs/\(resolved.environmentName)-distributed",
                    policy: resolved.config, learnerFlags: passed)
                run.configFile = config
                run.model = resolved.modelPath
                try OneMachineRun.prepare(runDirectory: run.runDirectory, overwrite: overwrite)
            }
            let status = try run.run()
            if status != 0 { throw ExitCode(status) }
            return
        }
        let stop = StopFlag()
        let handlers = stop.installSignalHandlers()
        defer { handlers.cancel() }
        let options = TrainerOptions(progress: quiet ? .off : .automatic, overwrite: overwrite, stop: stop)

        let trainer: LocalTrainer
        if let resume {
            let checkpoint = try CheckpointStore.load(URL(fileURLWithPath: resume))
            let settings = runSettings.overrides(blas: blas).applied(to: checkpoint.manifest.run)
            do {
                try settings.validate()
            } catch {
                throw ValidationError(ConfigurationError.invalidValue(
                    flag: ConfigResolver.flag(forField: error.field), expected: error.expected).description)
            }
            BLASOptions.loadAndLog(core: settings.blasCore, threads: settings.blasThreads)
            let counters = checkpoint.manifest.counters
            log("resuming \(checkpoint.directory.path) at step \(counters.steps) (\(counters.updates) updates)"
                + (checkpoint.manifest.replay == nil
                    ? "; no replay snapshot: \(checkpoint.manifest.config.learningStarts) steps refill replay before updates resume"
                    : "; replay snapshot restored"))
            trainer = try LocalTrainer(resuming: checkpoint, settings: settings, options: options)
            print("environment: \(trainer.environmentName), run directory: \(trainer.runDirectory.path)")
            print(ConfigFile.render(environment: trainer.environmentName, model: trainer.modelPath, config: trainer.config,
                                    settings: settings))
        } else {
            let resolved = try resolved()
            let settings = resolved.settings
            BLASOptions.loadAndLog(core: settings.blasCore, threads: settings.blasThreads)
            let directory = URL(fileURLWithPath: settings.runDir ?? RunDirectory.defaultPath(
                environment: resolved.environmentName, expName: settings.expName, seed: resolved.config.seed))
            print("environment: \(resolved.environmentName), run directory: \(directory.path)")
            print(resolved.rendered)
            trainer = try LocalTrainer(
                config: resolved.config, settings: settings, environmentName: resolved.environmentName,
                modelPath: resolved.modelPath, runDirectory: directory, options: options)
        }
        let summary = try trainer.run()

        if summary.interrupted {
            log("stopped by signal after \(summary.steps) steps; checkpoint, policy and metrics saved")
        }
        let evaluation = summary.evaluations.last.map { String(format: "%.2f at step %d", $0.meanReturn, $0.step) } ?? "-"
        print(
            "steps \(summary.steps), updates \(summary.updates) (\(summary.skippedUpdates) skipped), "
                + "episodes \(summary.episodes), last Test/return \(evaluation), "
                + String(format: "%.1f SPS, %.1f s", summary.stepsPerSecond, summary.elapsedSeconds))
        print("policy: \(summary.policyPath)")
        if let checkpoint = summary.lastCheckpoint { print("checkpoint: \(checkpoint)") }
        if trainer.environmentName == "multigoal" && !summary.interrupted {
            print(try MultiGoalCheck.run(agent: trainer.agent, rollouts: multigoalRollouts))
        }
    }
}

/// `meow config`: the effective configuration as a config file, to edit and pass back with --config.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Print the effective configuration as a JSON config file (a template).")

    @Option(help: "Environment and preset (default: the config file's env, else pendulum).") var env: String?
    @Option(help: "MuJoCo model file (MJCF) replacing the task's built-in model.") var model: String?
    @Option(help: "A JSON config file to start from.") var config: String?
    @Option(help: ArgumentHelp("Print the key table of a section (\(ConfigFile.generatedSections.joined(separator: " or "))) "
        + "as docs/configuration.md shows it, instead (scripts/gen-config-docs.sh).", valueName: "section"))
    var markdown: String?
    @OptionGroup(title: "MEow hyperparameters") var hyperparameters: MEowOptions
    @OptionGroup(title: "Run settings") var runSettings: RunOptions
    @OptionGroup(title: "BLAS") var blas: BLASOptions

    func run() throws {
        if let markdown {
            guard let table = ConfigFile.keysMarkdown(section: markdown) else {
                throw ValidationError("Invalid --markdown: expected \(ConfigFile.generatedSections.joined(separator: " or ")), "
                    + "got '\(markdown)'; change --markdown.")
            }
            print(table, terminator: "")
            return
        }
        let resolved = try resolve { () throws(ConfigurationError) in
            try ConfigResolver.resolve(
                environmentName: env, configFile: config, overrides: hyperparameters.overrides,
                runOverrides: runSettings.overrides(blas: blas), modelPath: model)
        }
        print(resolved.rendered, terminator: "")
    }
}

/// `meow model`: a MuJoCo task's built-in model as MJCF, to edit and pass back with --model.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Print a MuJoCo task's built-in model (MJCF), the starting point of a variant for --model.")

    @Option(help: "The MuJoCo task: \(EnvironmentRegistry.entries.filter(\.acceptsModelPath).map(\.name).joined(separator: ", ")).")
    var env: String

    func run() throws {
        let tasks = EnvironmentRegistry.entries.filter(\.acceptsModelPath).map(\.name)
        guard let entry = try? EnvironmentRegistry.entry(named: env), let text = MuJoCoModels.text(environment: entry.name)
        else {
            throw ValidationError("'\(env)' is not a MuJoCo task; pass --env with one of \(tasks.joined(separator: ", ")).")
        }
        print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
    }
}
