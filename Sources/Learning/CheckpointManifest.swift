import Environments
import Foundation
import MEow
import Replay

/// The counters of a run at a checkpoint.
public struct CheckpointCounters: Sendable, Equatable, Codable {
    /// Environment steps taken.
    public var steps: Int
    /// Update calls made (skipped ones included).
    public var updates: Int
    /// Updates skipped because of a non-finite loss or gradient.
    public var skippedUpdates: Int
    /// Training episodes finished.
    public var episodes: Int
    /// Successful updates: the version of the policy in online.safetensors.
    public var policyVersion: Int
    /// Updates run only once the step index exceeds this: `learning-starts` in a fresh run,
    /// later after a resume that had to refill replay (docs/checkpoints.md).
    public var learningResumesAfterStep: Int

    public init(
        steps: Int, updates: Int, skippedUpdates: Int, episodes: Int, policyVersion: Int, learningResumesAfterStep: Int
    ) {
        self.steps = steps
        self.updates = updates
        self.skippedUpdates = skippedUpdates
        self.episodes = episodes
        self.policyVersion = policyVersion
        self.learningResumesAfterStep = learningResumesAfterStep
    }
}

/// The training episode in progress at a checkpoint, so a resume continues it.
public struct EpisodeRecord: Sendable, Equatable, Codable {
    /// Sum of rewards so far (Double: JSON keeps doubles exactly).
    public var episodeReturn: Double
    /// Steps so far.
    public var length: Int
    /// The observation the next action is chosen from (float32 values, stored exactly as doubles).
    public var observation: [Double]
    /// The return of the last finished episode, for the progress line and the summary.
    public var lastEpisodicReturn: Double?

    public init(episodeReturn: Double, length: Int, observation: [Float], lastEpisodicReturn: Double?) {
        self.episodeReturn = episodeReturn
        self.length = length
        self.observation = observation.map(Double.init)
        self.lastEpisodicReturn = lastEpisodicReturn
    }

    /// The observation as the agent takes it.
    public var observationValues: [Float] { observation.map(Float.init) }
}

/// The dimensions of the spaces the checkpoint's networks were built for.
public struct SpacesRecord: Sendable, Equatable, Codable {
    public var observationDimension: Int
    public var actionDimension: Int
    /// `BoxSpace.description` of each, for people.
    public var observationSpace: String
    public var actionSpace: String
    /// The spaces whole (shape and bounds), so a resumed run knows them before any peer says
    /// HELLO; absent in checkpoints written before they were recorded.
    public var spaces: RecordedSpaces?

    public init(observationDimension: Int, actionDimension: Int, observationSpace: String, actionSpace: String,
                spaces: RecordedSpaces? = nil) {
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        self.observationSpace = observationSpace
        self.actionSpace = actionSpace
        self.spaces = spaces
    }
}

/// A box space as JSON: its shape and per-element bounds (±3.4028235e38 where unbounded).
public struct SpaceRecord: Sendable, Equatable, Codable {
    public var shape: [Int]
    public var low: [Float]
    public var high: [Float]

    public init(shape: [Int], low: [Float], high: [Float]) {
        self.shape = shape
        self.low = low
        self.high = high
    }
}

/// The observation and action spaces a run trains on (config.json, checkpoints, policy metadata).
public struct RecordedSpaces: Sendable, Equatable, Codable {
    public var observation: SpaceRecord
    /// The simulator's real action range; actions travel normalised to [-1, 1].
    public var action: SpaceRecord

    public init(observation: SpaceRecord, action: SpaceRecord) {
        self.observation = observation
        self.action = action
    }

    /// One line of JSON, as config.json and the policy metadata store it.
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }
}

/// The best evaluation so far; its checkpoint is never pruned.
public struct BestRecord: Sendable, Equatable, Codable {
    public var step: Int
    /// The `Test/return` of that evaluation.
    public var testReturn: Double

    public init(step: Int, testReturn: Double) {
        self.step = step
        self.testReturn = testReturn
    }
}

/// One data file of a checkpoint, with what it must look like.
public struct CheckpointFileRecord: Sendable, Equatable, Codable {
    /// Relative to the checkpoint directory, e.g. "online.safetensors" or "replay/chunk-00000.bin".
    public var path: String
    public var bytes: Int
    /// CRC-32C (Castagnoli) of the whole file, 8 lowercase hex digits.
    public var crc32c: String

    public init(path: String, bytes: Int, crc32c: String) {
        self.path = path
        self.bytes = bytes
        self.crc32c = crc32c
    }
}

/// The agent's scalars: counters and generator states (its tensors are in the data files).
public struct AgentRecord: Sendable, Equatable, Codable {
    public var updateCount: Int
    public var skippedUpdates: Int
    /// Adam's step, also in adam.safetensors' metadata.
    public var optimizerStep: Int
    /// Generator states by name, four words each (e.g. "dropout").
    public var randomStreams: [String: [UInt64]]

    public init(updateCount: Int, skippedUpdates: Int, optimizerStep: Int, randomStreams: [String: [UInt64]]) {
        self.updateCount = updateCount
        self.skippedUpdates = skippedUpdates
        self.optimizerStep = optimizerStep
        self.randomStreams = randomStreams
    }
}

/// manifest.json: everything about a checkpoint except the tensor and replay data.
///
/// Written last into the checkpoint's temporary directory, so a directory with a
/// manifest has all its files; `files` lists each with its size and checksum, and
/// loading checks them all before anything is restored. docs/checkpoints.md describes
/// every field.
public struct CheckpointManifest: Sendable, Equatable, Codable {
    /// Bumped when the layout or a field's meaning changes; older readers refuse newer files
    /// (docs/checkpoints.md lists the versions).
    public static let currentFormatVersion = 1

    /// The layout this manifest follows; a manifest without the field is version 1.
    public var formatVersion: Int
    /// `MEowVersion.current` of the writer.
    public var meowVersion: String
    /// The source tree's commit when it could be found, else "unknown".
    public var gitCommit: String
    /// ISO 8601, UTC.
    public var createdAt: String
    /// The environment's canonical name ("pendulum").
    public var environment: String
    /// The MuJoCo model file the run steps instead of the task's built-in model; nil for the built-in one.
    public var model: String?
    /// The effective configuration.
    public var config: MEowConfig
    public var run: RunSettings
    public var spaces: SpacesRecord
    public var counters: CheckpointCounters
    /// Generator states by name: "exploration", "replay", "evaluation" (four words each).
    public var randomStreams: [String: [UInt64]]
    public var agent: AgentRecord
    /// The training environment's state; nil for environments that cannot snapshot (actors own them).
    public var environmentState: EnvironmentSnapshot?
    /// The episode in progress; nil where no single environment is stepped (the learner service).
    public var episode: EpisodeRecord?
    /// Every evaluation so far.
    public var evaluations: [EvaluationPoint]
    public var best: BestRecord?
    /// metrics.csv's size once this checkpoint's rows were on disk; a resume cuts later rows.
    public var metricsBytes: Int?
    /// The replay snapshot's header; nil when the checkpoint has none.
    public var replay: ReplaySnapshotHeader?
    /// Every data file, with size and checksum.
    public var files: [CheckpointFileRecord]
    /// The distributed learner's counters and effective configuration; nil for the single-process trainer.
    public var learner: LearnerRecord?

    public init(
        environment: String, config: MEowConfig, run: RunSettings, spaces: SpacesRecord, counters: CheckpointCounters,
        randomStreams: [String: [UInt64]], agent: AgentRecord, environmentState: EnvironmentSnapshot? = nil,
        episode: EpisodeRecord? = nil, evaluations: [EvaluationPoint] = [], best: BestRecord? = nil,
        metricsBytes: Int? = nil
    ) {
        formatVersion = Self.currentFormatVersion
        meowVersion = MEowVersion.current
        gitCommit = MEowVersion.gitCommit
        createdAt = ISO8601DateFormatter().string(from: Date())
        self.environment = environment
        self.config = config
        self.run = run
        self.spaces = spaces
        self.counters = counters
        self.randomStreams = randomStreams
        self.agent = agent
        self.environmentState = environmentState
        self.episode = episode
        self.evaluations = evaluations
        self.best = best
        self.metricsBytes = metricsBytes
        replay = nil
        files = []
        learner = nil
    }

    /// The generator called `name`, or a specific error.
    public func randomStream(_ name: String) throws(CheckpointError) -> Xoshiro256 {
        guard let words = randomStreams[name], let rng = Xoshiro256(state: words) else {
            throw .invalidManifest(reason: "random stream '\(name)' is missing or not four words, not all zero")
        }
        return rng
    }
}

/// The version of this codebase, written into every checkpoint.
extension MEowVersion {
    /// The commit of the source tree this binary was built from, found once per process.
    ///
    /// Asks git in the directory this file was compiled from (it exists on the build
    /// machine, where most runs happen); a deployed binary without that tree, or
    /// without git, reports "unknown". `MEOW_GIT_COMMIT` in the environment wins.
    public static let gitCommit: String = {
        if let given = ProcessInfo.processInfo.environment["MEOW_GIT_COMMIT"], !given.isEmpty { return given }
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        guard FileManager.default.fileExists(atPath: source.path),
              FileManager.default.isExecutableFile(atPath: "/usr/bin/git") else { return "unknown" }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/git")
        process.arguments = ["-C", source.path, "rev-parse", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return "unknown"
        }
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let commit = String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && commit.count == 40 ? commit : "unknown"
    }()
}
