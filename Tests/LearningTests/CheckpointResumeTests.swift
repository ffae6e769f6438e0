import Environments
import Foundation
import MEow
import Replay
import Testing

@testable import Learning

/// Exact resume: a run stopped, checkpointed and continued in a new trainer equals one that never stopped.
///
/// Serialized: each test trains for seconds on the calling thread, and two at once would hold both of the
/// cooperative pool's threads (2 cores) while async tests elsewhere wait for one.
@Suite(.serialized) struct CheckpointResumeTests {
    /// Pendulum with small networks: 300 steps, updates from step index 51, evaluations every 100 steps.
    static func tinyConfig() -> MEowConfig {
        var c = MEowConfig.preset("pendulum")!
        (c.totalSteps, c.learningStarts, c.batchSize, c.bufferSize) = (300, 50, 32, 1000)
        (c.flowHidden, c.shiftHidden) = (16, 16)
        (c.evalEvery, c.evalEpisodes) = (100, 2)
        c.seed = 11
        return c
    }

    static func settings(replay: Bool) -> RunSettings {
        var s = RunSettings()
        (s.checkpointEvery, s.keepCheckpoints, s.checkpointReplay) = (75, 2, replay)
        return s
    }

    static func options(stopAfter: Int? = nil) -> TrainerOptions {
        TrainerOptions(progress: .off, lossLogInterval: 10, stopAfterSteps: stopAfter)
    }

    /// Metric rows without the wall-clock ones.
    static func rows(_ directory: URL) throws -> [String] {
        try metricRows(in: directory).rows.filter { $0.tag != "charts/SPS" }.map { "\($0.step),\($0.tag),\($0.value)" }
    }

    static func state(_ trainer: LocalTrainer) throws -> AgentTrainingState {
        try #require(trainer.agent as? MEowAgent).trainingState()
    }

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }

    // MARK: - Bit-identical resume

    @Test func resumeWithReplaySnapshotIsBitIdenticalToAnUninterruptedRun() throws {
        let config = Self.tinyConfig()
        let straightDirectory = temporaryRunDirectory()
        let straight = try LocalTrainer(
            config: config, settings: Self.settings(replay: true), environmentName: "pendulum",
            runDirectory: straightDirectory, options: Self.options())
        let straightSummary = try straight.run()

        // The same run, stopped after 150 steps (a stop request checkpoints), then resumed by a new trainer.
        let splitDirectory = temporaryRunDirectory()
        let first = try LocalTrainer(
            config: config, settings: Self.settings(replay: true), environmentName: "pendulum",
            runDirectory: splitDirectory, options: Self.options(stopAfter: 150))
        let firstSummary = try first.run()
        #expect(firstSummary.interrupted && firstSummary.steps == 150)
        let resumed = try LocalTrainer(resumingFrom: splitDirectory, options: Self.options())
        let splitSummary = try resumed.run()
        #expect(splitSummary.resumedFromStep == 150)

        let a = try Self.state(straight), b = try Self.state(resumed)
        #expect(a.updateCount == 249 && b.updateCount == a.updateCount)
        #expect(Self.bits(a.online) == Self.bits(b.online), "online weights")
        #expect(Self.bits(a.target) == Self.bits(b.target), "target weights")
        #expect(Self.bits(a.firstMoment) == Self.bits(b.firstMoment), "Adam first moments")
        #expect(Self.bits(a.secondMoment) == Self.bits(b.secondMoment), "Adam second moments")
        #expect(a.optimizerStep == b.optimizerStep && a.dropoutRNG == b.dropoutRNG)
        #expect(straight.replay.orderedContents() == resumed.replay.orderedContents())

        let straightRows = try Self.rows(straightDirectory)
        #expect(straightRows.count > 100)
        #expect(try Self.rows(splitDirectory) == straightRows, "metric rows")
        #expect(splitSummary.evaluations == straightSummary.evaluations)
        #expect(splitSummary.episodes == straightSummary.episodes && splitSummary.updates == straightSummary.updates)
        #expect(splitSummary.lastEpisodicReturn == straightSummary.lastEpisodicReturn)

        // The resumed session wrote a second event file and appended to metrics.csv under one header.
        let files = try FileManager.default.contentsOfDirectory(atPath: splitDirectory.path)
        #expect(files.filter { $0.hasPrefix(RunFiles.eventFilePrefix) }.count == 2)
        let csv = try String(contentsOf: splitDirectory.appendingPathComponent(RunFiles.metrics), encoding: .utf8)
        #expect(csv.components(separatedBy: "step,tag,value").count == 2)
    }

    @Test func resumeWithoutReplayRefillsBeforeUpdatingAgain() throws {
        let config = Self.tinyConfig()
        let directory = temporaryRunDirectory()
        _ = try LocalTrainer(
            config: config, settings: Self.settings(replay: false), environmentName: "pendulum",
            runDirectory: directory, options: Self.options(stopAfter: 150)
        ).run()
        let checkpoint = try CheckpointStore.load(directory)
        #expect(checkpoint.manifest.replay == nil)
        #expect(!checkpoint.manifest.files.contains { $0.path.hasPrefix("replay/") })

        let resumed = try LocalTrainer(resuming: checkpoint, options: Self.options())
        let summary = try resumed.run()
        // Updates at t = 51..<150 before the stop; after it, replay refills for learning-starts
        // steps and updates run at t = 201..<300: no burst, the step count keeps counting.
        #expect(summary.steps == 300)
        #expect(summary.updates == 99 + 99)
        #expect(resumed.agent.updateCount == 198)
        #expect(resumed.replay.count == 150, "the buffer holds only what this session collected")
        let lossSteps = try metricRows(in: directory).rows.filter { $0.tag == "losses/qf_loss" }.map(\.step)
        #expect(!lossSteps.contains { $0 > 150 && $0 <= 201 }, "no updates while replay refills")
        #expect(lossSteps.contains { $0 > 201 })
    }

    // MARK: - Layout, pointers and retention

    @Test func checkpointsAreAtomicDirectoriesWithPointersAndRetention() throws {
        let directory = temporaryRunDirectory()
        var config = Self.tinyConfig()
        config.totalSteps = 160
        _ = try LocalTrainer(
            config: config, settings: Self.settings(replay: true), environmentName: "pendulum",
            runDirectory: directory, options: Self.options()
        ).run()
        let store = CheckpointStore(runDirectory: directory, keep: 2)
        // Periodic at 75 and 150, best at 100 (first evaluation), final at 160; keep 2 plus the best.
        #expect(store.pointer("latest") == "step-000000160")
        let best = try #require(store.pointer("best"))
        #expect(store.checkpointNames() == [best, "step-000000150", "step-000000160"].sorted())
        let all = try FileManager.default.contentsOfDirectory(atPath: store.directory.path)
        #expect(!all.contains { $0.hasPrefix(".tmp-") || $0.hasPrefix(".old-") })

        let loaded = try CheckpointStore.load(directory)
        let m = loaded.manifest
        #expect(m.formatVersion == CheckpointManifest.currentFormatVersion)
        #expect(m.environment == "pendulum" && m.config == config && m.counters.steps == 160)
        #expect(Set(m.randomStreams.keys) == ["exploration", "replay", "evaluation"])
        #expect(m.agent.randomStreams["dropout"]?.count == 4)
        #expect(m.environmentState?.kind == "pendulum")
        #expect(m.episode?.observation.count == 3)
        #expect(m.replay?.count == 160)
        let names = Set(m.files.map(\.path))
        #expect(names.isSuperset(of: ["online.safetensors", "target.safetensors", "adam.safetensors"]))
        #expect(names.contains("replay/chunk-00000.bin"))
        #expect(m.files.allSatisfy { $0.crc32c.count == 8 })
    }

    // MARK: - Damaged checkpoints fail loudly

    /// A finished tiny run's directory and its latest checkpoint directory.
    static func finishedRun() throws -> (run: URL, checkpoint: URL) {
        let directory = temporaryRunDirectory()
        var config = Self.tinyConfig()
        (config.totalSteps, config.evalEvery) = (60, 0)
        _ = try LocalTrainer(
            config: config, settings: Self.settings(replay: true), environmentName: "pendulum",
            runDirectory: directory, options: Self.options()
        ).run()
        return (directory, try CheckpointStore.locate(directory))
    }

    static func resumeError(_ url: URL) -> CheckpointError? {
        do {
            _ = try LocalTrainer(resumingFrom: url, options: options())
            return nil
        } catch let error as CheckpointError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    @Test func aTruncatedManifestIsReportedByName() throws {
        let (run, checkpoint) = try Self.finishedRun()
        let manifest = checkpoint.appendingPathComponent("manifest.json")
        let data = try Data(contentsOf: manifest)
        try data.prefix(data.count / 2).write(to: manifest)
        let metricsBefore = try Data(contentsOf: run.appendingPathComponent(RunFiles.metrics))
        let error = try #require(Self.resumeError(run))
        guard case let .corruptManifest(path, _) = error else {
            Issue.record("expected corruptManifest, got \(error)")
            return
        }
        #expect(path == manifest.path)
        #expect(error.description.contains("truncated or corrupted"))
        // Nothing was started: the run's files are as they were.
        #expect(try Data(contentsOf: run.appendingPathComponent(RunFiles.metrics)) == metricsBefore)
    }

    @Test func aCorruptedWeightFileIsReportedByName() throws {
        let (_, checkpoint) = try Self.finishedRun()
        let online = checkpoint.appendingPathComponent("online.safetensors")
        var bytes = [UInt8](try Data(contentsOf: online))
        bytes[bytes.count - 5] ^= 0x40
        try Data(bytes).write(to: online)
        guard case let .checksumMismatch(path, _, _) = Self.resumeError(checkpoint) else {
            Issue.record("expected checksumMismatch")
            return
        }
        #expect(path == online.path)
    }

    @Test func aTruncatedOrMissingDataFileIsReportedByName() throws {
        let (_, checkpoint) = try Self.finishedRun()
        let adam = checkpoint.appendingPathComponent("adam.safetensors")
        let data = try Data(contentsOf: adam)
        try data.prefix(100).write(to: adam)
        #expect(Self.resumeError(checkpoint) == .sizeMismatch(path: adam.path, expected: data.count, actual: 100))

        let target = checkpoint.appendingPathComponent("target.safetensors")
        try FileManager.default.removeItem(at: target)
        try data.write(to: adam)
        #expect(Self.resumeError(checkpoint) == .missingFile(path: target.path))

        let chunk = checkpoint.appendingPathComponent("replay/chunk-00000.bin")
        try Data(contentsOf: chunk).prefix(8).write(to: chunk)
        #expect(throws: CheckpointError.self) { try CheckpointStore.load(checkpoint) }
    }

    @Test func aDirectoryWithoutCheckpointsIsNotAFreshStart() throws {
        let empty = temporaryRunDirectory()
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        #expect(Self.resumeError(empty) == .notFound(path: empty.path))
        let missing = empty.appendingPathComponent("nope")
        #expect(Self.resumeError(missing) == .missingFile(path: missing.path))
        #expect(!FileManager.default.fileExists(atPath: empty.appendingPathComponent(RunFiles.metrics).path))
    }

    // MARK: - Scripted loop

    @Test func aStopRequestCheckpointsAndAResumeFinishesTheSameRun() throws {
        let config = LocalTrainerTests.smallConfig()
        let straightDirectory = temporaryRunDirectory()
        _ = try LocalTrainerTests.makeTrainer(config: config, log: EventLog(), directory: straightDirectory).0.run()

        let directory = temporaryRunDirectory()
        let stop = StopFlag()
        var settings = RunSettings()
        settings.checkpointReplay = true
        let (first, agent) = try LocalTrainerTests.makeTrainer(
            config: config, settings: settings, log: EventLog(), directory: directory,
            options: TrainerOptions(progress: .off, lossLogInterval: 10, stop: stop))
        agent.onUpdate = { count in if count == 7 { stop.set() } }
        let stopped = try first.run()
        #expect(stopped.interrupted)
        let checkpoint = try CheckpointStore.load(directory)
        #expect(checkpoint.manifest.counters.steps == stopped.steps)

        let log = EventLog()
        let resumed = try LocalTrainer(
            resuming: checkpoint, environment: ScriptedEnvironment(role: "train", log: log),
            evaluationEnvironment: ScriptedEnvironment(role: "eval", log: log),
            options: TrainerOptions(progress: .off, lossLogInterval: 10),
            makeAgent: { _, _, _ in ScriptedAgent(log: log) })
        let summary = try resumed.run()
        #expect(summary.steps == config.totalSteps && !summary.interrupted)
        #expect(!log.events.contains(.reset(role: "train", seed: config.seed)), "the episode continues")
        let rows = { (d: URL) in try metricRows(in: d).rows.filter { $0.tag != "charts/SPS" }.map { "\($0)" } }
        #expect(try rows(directory) == rows(straightDirectory))
    }
}
