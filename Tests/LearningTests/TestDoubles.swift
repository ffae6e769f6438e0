import Environments
import Foundation
import Learning
import MEow
import Replay
import Tensor

/// Everything the doubles saw, in order: one timeline for the agent and both environments.
final class EventLog: @unchecked Sendable {
    enum Event: Equatable {
        case reset(role: String, seed: UInt64?)
        case step(role: String, action: [Float])
        case act(count: Int, deterministic: Bool, actions: [Float])
        case update(rows: Int)
        case save(path: String)
    }

    private let lock = NSLock()
    private var storage: [Event] = []

    func append(_ event: Event) {
        lock.withLock { storage.append(event) }
    }

    var events: [Event] {
        lock.withLock { storage }
    }
}

/// A deterministic environment whose observations name the episode and the step.
///
/// The observation is [episode, elapsed]; the reward is the action. Episodes with an odd
/// number terminate on their third step, the others are truncated on their fifth, so a
/// short run sees both kinds of ending. A seeded reset starts episode 1001·seed.
struct ScriptedEnvironment: Environment {
    static let terminalStep = 3
    static let timeLimit = 5

    let role: String
    let log: EventLog
    let observationSpace = BoxSpace(shape: [2], low: -1e6, high: 1e6)
    let actionSpace = BoxSpace(shape: [1], low: -1, high: 1)
    let maxEpisodeSteps = Self.timeLimit
    fileprivate(set) var elapsedSteps = 0
    fileprivate var episode = 0

    init(role: String, log: EventLog) {
        self.role = role
        self.log = log
    }

    /// Whether a step from `observation` ends the episode in a terminal state.
    static func terminates(after observation: [Float]) -> Bool {
        Int(observation[0]) % 2 == 1 && Int(observation[1]) + 1 == terminalStep
    }

    mutating func reset(seed: UInt64?) -> [Float] {
        log.append(.reset(role: role, seed: seed))
        episode = seed.map { Int($0) * 1001 } ?? episode + 1
        elapsedSteps = 0
        return [Float(episode), 0]
    }

    mutating func step(action: [Float]) -> StepResult {
        log.append(.step(role: role, action: action))
        let terminated = Self.terminates(after: [Float(episode), Float(elapsedSteps)])
        elapsedSteps += 1
        return StepResult(
            observation: [Float(episode), Float(elapsedSteps)], reward: Double(action[0]), terminated: terminated,
            truncated: !terminated && elapsedSteps == Self.timeLimit)
    }
}

/// A deterministic stand-in for the MEow agent that records every call.
///
/// Deterministic actions are 0.25; stochastic ones are drawn in [0, 0.5) from the rng,
/// so exploration noise reaches the metrics. An update reports statistics computed from
/// the batch, so the replay sampling stream reaches the metrics too.
final class ScriptedAgent: TrainableAgent {
    static let deterministicAction: Float = 0.25

    let log: EventLog
    let actionDimension: Int
    var updateCount = 0
    var skippedUpdates = 0
    /// Called after each update with the new update count.
    var onUpdate: ((Int) -> Void)?

    init(log: EventLog, actionDimension: Int = 1) {
        self.log = log
        self.actionDimension = actionDimension
    }

    func act(observations: [Float], count: Int, deterministic: Bool, rng: inout Xoshiro256) -> [Float] {
        let actions = (0..<count * actionDimension).map { _ in
            deterministic ? Self.deterministicAction : 0.5 * rng.nextUniform(Float.self)
        }
        log.append(.act(count: count, deterministic: deterministic, actions: actions))
        return actions
    }

    func values(observations: [Float], count: Int) -> [Float] {
        Array(repeating: 0, count: count)
    }

    func update(batch: TransitionBatch) -> UpdateMetrics {
        updateCount += 1
        log.append(.update(rows: batch.count))
        onUpdate?(updateCount)
        let n = Float(batch.count)
        return UpdateMetrics(
            loss: batch.rewards.reduce(0, +) / n, gradientNorm: Float(batch.slots.reduce(0, +)), skipped: false,
            meanQ: batch.observations.reduce(0, +) / n, meanTargetV: batch.terminations.reduce(0, +) / n,
            meanLogSigma: -1, minLogSigma: -2, maxLogSigma: 0)
    }

    func savePolicy(to path: String) throws {
        log.append(.save(path: path))
        try Data("scripted policy after \(updateCount) updates".utf8).write(to: URL(fileURLWithPath: path))
    }

    func loadPolicy(from path: String) throws {
        _ = try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// No tensors: the counters are the whole state.
    func checkpoint() -> AgentCheckpoint {
        AgentCheckpoint(
            files: [:],
            record: AgentRecord(
                updateCount: updateCount, skippedUpdates: skippedUpdates, optimizerStep: updateCount, randomStreams: [:]))
    }

    func restore(from checkpoint: AgentCheckpoint) throws {
        updateCount = checkpoint.record.updateCount
        skippedUpdates = checkpoint.record.skippedUpdates
    }
}

extension ScriptedEnvironment: SnapshotEnvironment {
    func snapshot() -> EnvironmentSnapshot {
        EnvironmentSnapshot(
            kind: "scripted", values: ["episode": Double(episode)], elapsedSteps: elapsedSteps, generator: [1, 0, 0, 0])
    }

    mutating func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        guard snapshot.kind == "scripted", let episode = snapshot.values["episode"] else {
            throw .invalidSnapshot(kind: "scripted", reason: "not a scripted snapshot")
        }
        self.episode = Int(episode)
        elapsedSteps = snapshot.elapsedSteps
    }
}

/// A fresh directory under the system's temporary directory.
func temporaryRunDirectory() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("meow-learning-tests-\(UUID().uuidString)")
}

/// Reads metrics.csv as (step, tag, value) rows, header excluded.
func metricRows(in directory: URL) throws -> (header: String, rows: [(step: Int, tag: String, value: String)]) {
    let text = try String(contentsOf: directory.appendingPathComponent(RunFiles.metrics), encoding: .utf8)
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let header = lines.removeFirst()
    if lines.last == "" { lines.removeLast() }
    let rows = lines.map { line in
        let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        return (step: Int(fields[0]) ?? -1, tag: fields[1], value: fields[2])
    }
    return (header, rows)
}
