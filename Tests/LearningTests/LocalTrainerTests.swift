import Environments
import Foundation
import MEow
import Testing

@testable import Learning

@Suite struct LocalTrainerTests {
    /// A short run: 40 steps, updates from step index 11 on, two per step, evaluation every 15 steps.
    static func smallConfig(seed: UInt64 = 7) -> MEowConfig {
        var c = MEowConfig()
        c.totalSteps = 40
        c.learningStarts = 10
        c.updatesPerStep = 2
        c.batchSize = 4
        c.bufferSize = 1000
        c.evalEvery = 15
        c.evalEpisodes = 3
        c.seed = seed
        return c
    }

    /// A trainer on `ScriptedEnvironment` with a `ScriptedAgent`, both reporting to `log`.
    static func makeTrainer(
        config: MEowConfig = smallConfig(), settings: RunSettings = RunSettings(), log: EventLog,
        directory: URL = temporaryRunDirectory(),
        options: TrainerOptions = TrainerOptions(progress: .off, lossLogInterval: 10)
    ) throws -> (LocalTrainer, ScriptedAgent) {
        let agent = ScriptedAgent(log: log)
        let trainer = try LocalTrainer(
            config: config, settings: settings, environment: ScriptedEnvironment(role: "train", log: log),
            evaluationEnvironment: ScriptedEnvironment(role: "eval", log: log), environmentName: "scripted",
            runDirectory: directory, options: options, makeAgent: { _, _, _ in agent })
        return (trainer, agent)
    }

    // MARK: - Acting and learning schedule

    @Test func randomActionsBeforeLearningStartsThenPolicyActions() throws {
        let log = EventLog()
        let config = Self.smallConfig()
        let (trainer, _) = try Self.makeTrainer(config: config, log: log)
        _ = try trainer.run()

        var pendingPolicyAction: [Float]?
        var randomActions: [Float] = []
        var step = 0
        for event in log.events {
            switch event {
            case let .act(count, deterministic, actions) where !deterministic:
                #expect(count == 1)
                pendingPolicyAction = actions
            case let .step("train", action):
                if step < config.learningStarts {
                    #expect(pendingPolicyAction == nil, "step \(step) should act at random")
                    randomActions += action
                } else {
                    #expect(pendingPolicyAction == action, "step \(step) should take the policy's action")
                }
                pendingPolicyAction = nil
                step += 1
            default:
                break
            }
        }
        #expect(step == config.totalSteps)
        #expect(randomActions.allSatisfy { -1 <= $0 && $0 <= 1 })
        #expect(Set(randomActions).count == randomActions.count, "random actions should differ")
        #expect(randomActions.contains { $0 < 0 }, "uniform [-1, 1] actions should include negative ones")
    }

    @Test func updatesStartStrictlyAfterLearningStartsAndRepeatPerStep() throws {
        let log = EventLog()
        let config = Self.smallConfig()
        let (trainer, agent) = try Self.makeTrainer(config: config, log: log)
        let summary = try trainer.run()

        var updatesAfterStep = Array(repeating: 0, count: config.totalSteps)
        var stepsTaken = 0
        for event in log.events {
            switch event {
            case .step("train", _): stepsTaken += 1
            case let .update(rows):
                #expect(rows == config.batchSize)
                #expect(stepsTaken > 0)
                updatesAfterStep[stepsTaken - 1] += 1
            default: break
            }
        }
        for t in 0..<config.totalSteps {
            #expect(updatesAfterStep[t] == (t > config.learningStarts ? config.updatesPerStep : 0), "step index \(t)")
        }
        let expected = (config.totalSteps - config.learningStarts - 1) * config.updatesPerStep
        #expect(summary.updates == expected)
        #expect(agent.updateCount == expected)
    }

    // MARK: - What replay stores

    @Test func replayKeepsRealFinalObservationsAndOnlyTerminationFlags() throws {
        let log = EventLog()
        let (trainer, _) = try Self.makeTrainer(log: log)
        _ = try trainer.run()
        let stored = try #require(trainer.replay.orderedContents())

        var terminations = 0, truncations = 0
        for row in 0..<stored.count {
            let s = Array(stored.observations[2 * row..<2 * row + 2])
            let next = Array(stored.nextObservations[2 * row..<2 * row + 2])
            // s' is the real successor, never the next episode's first observation.
            #expect(next == [s[0], s[1] + 1], "row \(row)")
            let terminal = ScriptedEnvironment.terminates(after: s)
            #expect(stored.terminations[row] == (terminal ? 1 : 0), "row \(row)")
            #expect(stored.rewards[row] == stored.actions[row])
            if terminal { terminations += 1 }
            if Int(next[1]) == ScriptedEnvironment.timeLimit { truncations += 1 }
        }
        #expect(stored.count == Self.smallConfig().totalSteps)
        #expect(terminations > 0 && truncations > 0, "the run should see both kinds of episode end")

        // The training environment is seeded once, then continues from its own state.
        let trainResets = log.events.compactMap { event -> UInt64?? in
            if case let .reset("train", seed) = event { return seed }
            return nil
        }
        #expect(trainResets.first == .some(Self.smallConfig().seed))
        #expect(trainResets.dropFirst().allSatisfy { $0 == nil })
        #expect(trainResets.count == terminations + truncations + 1)
    }

    @Test func anUnstableSimulationStepIsCountedAndNeverStored() throws {
        // Every 7th step of each episode "blows up": the episode ends there and that transition is dropped.
        let log = EventLog()
        let agent = ScriptedAgent(log: log)
        let trainer = try LocalTrainer(
            config: Self.smallConfig(), environment: UnstableEveryN(period: 7),
            evaluationEnvironment: UnstableEveryN(period: 7), environmentName: "unstable",
            runDirectory: temporaryRunDirectory(), options: TrainerOptions(progress: .off, lossLogInterval: 10),
            makeAgent: { _, _, _ in agent })
        let summary = try trainer.run()
        let stored = try #require(trainer.replay.orderedContents())
        // 40 steps = 5 episodes of 7 steps + 5 steps: 5 unstable steps dropped.
        #expect(stored.count == Self.smallConfig().totalSteps - 5)
        #expect(stored.terminations.allSatisfy { $0 == 0 }, "no transition into a blown-up state is stored")
        #expect(stored.nextObservations.allSatisfy { $0 < 7 })
        #expect(summary.steps == Self.smallConfig().totalSteps)
        let rows = try String(contentsOf: trainer.runDirectory.appendingPathComponent("metrics.csv"), encoding: .utf8)
        #expect(rows.contains("charts/unstable_episodes,5"))
    }

    // MARK: - Evaluation

    @Test func evaluationResetsWithSeedsZeroToNAndActsDeterministically() throws {
        let log = EventLog()
        let config = Self.smallConfig()
        let directory = temporaryRunDirectory()
        let (trainer, _) = try Self.makeTrainer(config: config, log: log, directory: directory)
        let summary = try trainer.run()

        // Steps 15 and 30, then a final evaluation after step 40.
        #expect(summary.evaluations.map(\.step) == [15, 30, 40])
        let evalSeeds = log.events.compactMap { event -> UInt64? in
            if case let .reset("eval", seed) = event { return seed }
            return nil
        }
        #expect(evalSeeds == [0, 1, 2, 0, 1, 2, 0, 1, 2])
        let evalActs = log.events.compactMap { event -> Bool? in
            if case let .act(_, deterministic, _) = event, deterministic { return true }
            return nil
        }
        #expect(!evalActs.isEmpty)
        let evalSteps = log.events.compactMap { event -> [Float]? in
            if case let .step("eval", action) = event { return action }
            return nil
        }
        #expect(evalSteps.allSatisfy { $0 == [ScriptedAgent.deterministicAction] })

        // Each evaluation episode returns 0.25 per step; seed s starts episode 1001·s.
        let lengths = (0..<UInt64(config.evalEpisodes)).map { seed in
            (seed * 1001) % 2 == 1 ? ScriptedEnvironment.terminalStep : ScriptedEnvironment.timeLimit
        }
        let expected = Double(lengths.reduce(0, +)) * Double(ScriptedAgent.deterministicAction)
            / Double(config.evalEpisodes)
        let logged = try metricRows(in: directory).rows.filter { $0.tag == "Test/return" }
        #expect(logged.map(\.step) == [15, 30, 40])
        #expect(logged.allSatisfy { Float($0.value) == Float(expected) })
        #expect(summary.finalEvaluationReturn == expected)
    }

    // MARK: - Run directory

    @Test func runWritesMetricsConfigSummaryAndPolicy() throws {
        let log = EventLog()
        let config = Self.smallConfig()
        let directory = temporaryRunDirectory()
        let (trainer, _) = try Self.makeTrainer(config: config, log: log, directory: directory)
        let summary = try trainer.run()

        let (header, rows) = try metricRows(in: directory)
        #expect(header == "step,tag,value")
        let tags = Set(rows.map(\.tag))
        for tag in [
            "charts/episodic_return", "charts/episodic_length", "charts/SPS", "losses/qf_loss", "losses/alpha",
            "losses/grad_norm", "values/target_v", "values/log_sigma_mean", "losses/skipped_nonfinite", "Test/return",
        ] {
            #expect(tags.contains(tag), "missing \(tag)")
        }
        // Loss-type scalars every 10 updates (the options' interval), episode rows once per episode.
        #expect(rows.filter { $0.tag == "losses/qf_loss" }.count == summary.updates / 10)
        #expect(rows.filter { $0.tag == "charts/episodic_return" }.count == summary.episodes)
        #expect(rows.filter { $0.tag == "losses/alpha" }.allSatisfy { $0.value == "\(config.alpha)" })
        #expect(rows.allSatisfy { $0.step >= 1 && $0.step <= config.totalSteps })

        let configPath = directory.appendingPathComponent(RunFiles.config).path
        let contents = try ConfigFile.parse(Data(contentsOf: URL(fileURLWithPath: configPath)), path: configPath)
        var saved = MEowConfig()
        try ConfigFile.apply(contents.meow, keys: ConfigKeys.meow, section: "meow", path: configPath, to: &saved)
        #expect(saved == config)
        #expect(contents.environment == "scripted")
        let savedSummary = try JSONDecoder().decode(
            TrainingSummary.self, from: Data(contentsOf: directory.appendingPathComponent(RunFiles.summary)))
        #expect(savedSummary.steps == summary.steps && savedSummary.evaluations == summary.evaluations)

        // The policy is saved once, after the last step, at policy.safetensors.
        let policy = directory.appendingPathComponent(RunFiles.policy).path
        #expect(summary.policyPath == policy)
        #expect(FileManager.default.fileExists(atPath: policy))
        #expect(log.events.last == .save(path: policy))
        #expect(log.events.filter { if case .save = $0 { true } else { false } }.count == 1)
    }

    @Test func refusesARunDirectoryThatHoldsARunUnlessOverwriting() throws {
        let directory = temporaryRunDirectory()
        _ = try Self.makeTrainer(log: EventLog(), directory: directory).0.run()
        #expect(throws: LearningError.runDirectoryInUse(path: directory.path)) {
            try Self.makeTrainer(log: EventLog(), directory: directory).0.run()
        }
        let options = TrainerOptions(progress: .off, overwrite: true)
        let summary = try Self.makeTrainer(log: EventLog(), directory: directory, options: options).0.run()
        #expect(summary.steps == Self.smallConfig().totalSteps)
    }

    // MARK: - Reproducibility

    /// Every metric row except the wall-clock ones.
    static func reproducibleRows(seed: UInt64) throws -> [String] {
        let directory = temporaryRunDirectory()
        _ = try makeTrainer(config: smallConfig(seed: seed), log: EventLog(), directory: directory).0.run()
        return try metricRows(in: directory).rows.filter { $0.tag != "charts/SPS" }
            .map { "\($0.step),\($0.tag),\($0.value)" }
    }

    @Test func aSeedDeterminesTheRun() throws {
        let first = try Self.reproducibleRows(seed: 3)
        let second = try Self.reproducibleRows(seed: 3)
        let other = try Self.reproducibleRows(seed: 4)
        #expect(first.count > 20)
        #expect(first == second)
        #expect(first != other, "a different seed should change exploration or sampling")
    }

    // MARK: - Stopping

    @Test func aStopRequestEndsAfterTheCurrentStepAndStillSaves() throws {
        let log = EventLog()
        let config = Self.smallConfig()
        let stop = StopFlag()
        let directory = temporaryRunDirectory()
        let (trainer, agent) = try Self.makeTrainer(
            config: config, log: log, directory: directory, options: TrainerOptions(progress: .off, stop: stop))
        agent.onUpdate = { count in if count == 3 { stop.set() } }
        let summary = try trainer.run()

        // Update 3 happens after step index learningStarts + 2; that step completes, then the loop ends.
        #expect(summary.interrupted)
        #expect(summary.steps == config.learningStarts + 3)
        #expect(summary.updates == 4)
        #expect(FileManager.default.fileExists(atPath: summary.policyPath))
        #expect(summary.evaluations.isEmpty, "an interrupted run skips the final evaluation")
        let rows = try metricRows(in: directory).rows
        #expect(rows.filter { $0.tag == "charts/episodic_return" }.count == summary.episodes)
    }

    // MARK: - Built-in environments

    @Test func trainsOnABuiltInEnvironmentByName() throws {
        var config = try #require(MEowConfig.preset("pendulum"))
        (config.totalSteps, config.learningStarts, config.evalEvery, config.evalEpisodes) = (450, 100, 400, 2)
        config.batchSize = 8
        let log = EventLog()
        let trainer = try LocalTrainer(
            config: config, environmentName: "Pendulum-v1", runDirectory: temporaryRunDirectory(),
            options: TrainerOptions(progress: .off),
            makeAgent: { _, observationDimension, actionDimension in
                #expect(observationDimension == 3 && actionDimension == 1)
                return ScriptedAgent(log: log, actionDimension: actionDimension)
            })
        let summary = try trainer.run()
        #expect(trainer.environmentName == "pendulum")
        #expect(summary.episodes == 2, "Pendulum truncates at 200 steps")
        #expect(summary.evaluations.map(\.step) == [400, 450])
        // A constant torque of 0.25·2 never earns a positive reward.
        #expect(summary.evaluations.allSatisfy { $0.meanReturn < 0 && $0.meanReturn.isFinite })
    }

    @Test func rejectsEnvironmentsWithoutUnitActions() throws {
        let raw = try EnvironmentRegistry.makeEnvironment(name: "pendulum")
        #expect(throws: LearningError.self) {
            _ = try LocalTrainer(
                config: Self.smallConfig(), environment: raw, evaluationEnvironment: raw, environmentName: "pendulum",
                runDirectory: temporaryRunDirectory(), makeAgent: { _, _, _ in ScriptedAgent(log: EventLog()) })
        }
    }
}

/// A counter environment whose simulation becomes unstable on step `period` of every episode.
private struct UnstableEveryN: Environment {
    let period: Int
    var elapsedSteps = 0
    let observationSpace = BoxSpace(shape: [1], low: 0, high: 100)
    let actionSpace = BoxSpace(shape: [1], low: -1, high: 1)
    let maxEpisodeSteps = 1000

    mutating func reset(seed: UInt64?) -> [Float] {
        elapsedSteps = 0
        return [0]
    }

    mutating func step(action: [Float]) -> StepResult {
        elapsedSteps += 1
        let unstable = elapsedSteps == period
        return StepResult(observation: [Float(elapsedSteps)], reward: 1, terminated: unstable, truncated: false,
                          info: StepInfo(simulationUnstable: unstable))
    }
}
