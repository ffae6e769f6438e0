import Foundation
import MEow
import Telemetry
import Testing

@testable import Learning

/// Files written by an earlier build still load, and files of an unknown format version are refused by name.
///
/// Fixtures/train-v1 was written by `meow train` (format version 1, tiny networks, 400 steps);
/// Fixtures/learner-v1 by `meow-learner` with one `meow-actor` (the same config). Fixtures/
/// train-v1-resumed-to-700 holds what that build wrote when it resumed train-v1 with
/// total-steps 700: the policy and metrics.csv without its wall-clock rows.
@Suite struct CheckpointFormatTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// A copy of a fixture run in a temporary directory, so a test may write into it.
    static func copy(_ name: String) throws -> URL {
        let directory = temporaryRunDirectory()
        try FileManager.default.copyItem(at: fixtures.appendingPathComponent(name), to: directory)
        return directory
    }

    static func manifestURL(_ run: URL) -> URL {
        run.appendingPathComponent("checkpoints/step-000000400/manifest.json")
    }

    /// Replaces `old` with `new` in a run's manifest.json (the manifest is not checksummed).
    static func edit(_ run: URL, _ old: String, _ new: String) throws {
        let url = manifestURL(run)
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains(old), "the fixture's manifest holds \(old)")
        try text.replacingOccurrences(of: old, with: new).write(to: url, atomically: true, encoding: .utf8)
    }

    /// Restores a Pendulum agent from `loaded` and checks its weights against the run's policy.safetensors.
    static func expectRestoredAgentIsTheSavedPolicy(_ loaded: LoadedCheckpoint, run: URL) throws {
        let agent = try MEowAgent(config: loaded.manifest.config, observationDimension: 3, actionDimension: 1)
        try agent.restore(from: loaded.agent)
        let saved = try MEowAgent.fromPolicyFile(run.appendingPathComponent(RunFiles.policy).path)
        #expect(agent.policyTensors() == saved.policyTensors())
    }

    // MARK: - Checkpoints written by the first format

    @Test func aSingleProcessCheckpointOfTheFirstFormatLoads() throws {
        let run = try Self.copy("train-v1")
        defer { try? FileManager.default.removeItem(at: run) }
        let loaded = try CheckpointStore.load(run)
        let manifest = loaded.manifest
        #expect(manifest.formatVersion == 1 && manifest.learner == nil)
        #expect(manifest.counters.steps == 400 && manifest.counters.updates == 199)
        let state = try LearnerCheckpoint.state(from: manifest, replayRestored: false, minReplay: 200)
        // No replay snapshot: the one refill rule waits for learning-starts transitions after the checkpoint.
        #expect(state.learningResumesAfterStep == 600 && state.nextEvaluationStep == 600)
        // The agent's state is the one its final policy was saved from.
        try Self.expectRestoredAgentIsTheSavedPolicy(loaded, run: run)
    }

    @Test func resumingAFirstFormatCheckpointContinuesAsTheBuildThatWroteItDid() throws {
        let run = try Self.copy("train-v1")
        defer { try? FileManager.default.removeItem(at: run) }
        try Self.edit(run, "\"totalSteps\" : 400", "\"totalSteps\" : 700")
        let trainer = try LocalTrainer(resumingFrom: run, options: TrainerOptions(progress: .off))
        let summary = try trainer.run()
        #expect(summary.resumedFromStep == 400 && summary.steps == 700 && summary.updates == 298)

        let expected = Self.fixtures.appendingPathComponent("train-v1-resumed-to-700")
        let policy = try Data(contentsOf: run.appendingPathComponent(RunFiles.policy))
        #expect(policy == (try Data(contentsOf: expected.appendingPathComponent(RunFiles.policy))))
        let rows = try metricRows(in: run).rows.filter { $0.tag != MetricName.stepsPerSecond }.map { "\($0.step),\($0.tag),\($0.value)" }
        let expectedRows = try String(contentsOf: expected.appendingPathComponent("metrics-without-sps.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map(String.init)
        #expect(rows == expectedRows)
    }

    @Test func aLearnerCheckpointOfTheFirstFormatLoadsWithItsLedger() throws {
        let run = try Self.copy("learner-v1")
        defer { try? FileManager.default.removeItem(at: run) }
        let loaded = try CheckpointStore.load(run)
        let manifest = loaded.manifest
        let record = try #require(manifest.learner)
        #expect(manifest.formatVersion == 1 && record.nextEvaluationStep == 600)
        let ledger = try LearnerCheckpoint.ledger(from: manifest)
        #expect(ledger.envSteps == 400 && ledger.envSteps == manifest.counters.steps)
        let state = try LearnerCheckpoint.state(from: manifest, replayRestored: false, minReplay: 200)
        #expect(state.updates == 200 && state.learningResumesAfterStep == 600 && state.nextEvaluationStep == 600)
        try Self.expectRestoredAgentIsTheSavedPolicy(loaded, run: run)
    }

    // MARK: - The manifest's version

    @Test func aManifestWithoutAVersionIsVersionOne() throws {
        let run = try Self.copy("train-v1")
        defer { try? FileManager.default.removeItem(at: run) }
        try Self.edit(run, "\"formatVersion\" : 1,", "")
        #expect(try !String(contentsOf: Self.manifestURL(run), encoding: .utf8).contains("formatVersion"))
        let loaded = try CheckpointStore.load(run)
        #expect(loaded.manifest.formatVersion == 1 && loaded.manifest.counters.steps == 400)
        #expect(loaded.manifest.evaluations.first?.meanReturn == -1208.9939274649594)
    }

    @Test func aManifestOfAnUnknownVersionIsRefusedByName() throws {
        let run = try Self.copy("train-v1")
        defer { try? FileManager.default.removeItem(at: run) }
        try Self.edit(run, "\"formatVersion\" : 1,", "\"formatVersion\" : 2,")
        let path = Self.manifestURL(run).path
        #expect(throws: CheckpointError.unsupportedFormat(path: path, version: 2)) { try CheckpointStore.load(run) }
        let sentence = CheckpointError.unsupportedFormat(path: path, version: 2).description
        #expect(sentence.contains(path) && sentence.contains("format version 2"))
        try Self.edit(run, "\"formatVersion\" : 2,", "\"formatVersion\" : 0,")
        #expect(throws: CheckpointError.unsupportedFormat(path: path, version: 0)) { try CheckpointStore.load(run) }
    }

    // MARK: - The policy file's version

    /// A copy of a safetensors file with `__metadata__` entries replaced (nil removes one).
    static func rewriting(_ source: URL, _ changes: [String: String?]) throws -> URL {
        let bytes = [UInt8](try Data(contentsOf: source))
        let length = bytes[0..<8].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try #require(
            try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + length)])) as? [String: Any])
        var metadata = try #require(header["__metadata__"] as? [String: String])
        for (key, value) in changes { metadata[key] = value }
        header["__metadata__"] = metadata
        var text = [UInt8](try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys]))
        text += [UInt8](repeating: 0x20, count: (8 - text.count % 8) % 8)
        let prefix = (0..<8).map { UInt8(truncatingIfNeeded: text.count >> (8 * $0)) }
        let target = temporaryRunDirectory().appendingPathExtension("safetensors")
        try Data(prefix + text + bytes[(8 + length)...]).write(to: target)
        return target
    }

    @Test func aPolicyFileOfTheFirstFormatIsReadByEveryReader() throws {
        let path = Self.fixtures.appendingPathComponent("train-v1/policy.safetensors").path
        let (metadata, _) = try PolicyFileMetadata.read(path)
        #expect(metadata.formatVersion == 1 && metadata.observationDimension == 3 && metadata.actionDimension == 1)
        let saved = try SavedPolicy.open(path)
        #expect(saved.environment == "pendulum" && saved.observationDimension == 3)
        let agent = try MEowAgent.fromPolicyFile(path)
        try agent.loadPolicy(from: path)
    }

    @Test func aPolicyFileWithoutAVersionIsVersionOne() throws {
        let source = Self.fixtures.appendingPathComponent("train-v1/policy.safetensors")
        let unversioned = try Self.rewriting(source, ["format_version": nil])
        defer { try? FileManager.default.removeItem(at: unversioned) }
        let (metadata, _) = try PolicyFileMetadata.read(unversioned.path)
        #expect(metadata.formatVersion == 1 && metadata.entries["format_version"] == nil)
        let agent = try MEowAgent.fromPolicyFile(unversioned.path)
        #expect(agent.policyTensors() == (try MEowAgent.fromPolicyFile(source.path)).policyTensors())
        #expect(try SavedPolicy.open(unversioned.path).actionDimension == 1)
    }

    @Test func aPolicyFileOfAnUnknownVersionIsRefusedByName() throws {
        let source = Self.fixtures.appendingPathComponent("train-v1/policy.safetensors")
        for version in ["2", "0", "one"] {
            let newer = try Self.rewriting(source, ["format_version": version])
            defer { try? FileManager.default.removeItem(at: newer) }
            let refusal = PolicyFormatError.unknownVersion(path: newer.path, version: version)
            #expect(throws: refusal) { try MEowAgent.fromPolicyFile(newer.path) }
            #expect(throws: refusal) { try SavedPolicy.open(newer.path) }
            let agent = try MEowAgent.fromPolicyFile(source.path)
            #expect(throws: refusal) { try agent.loadPolicy(from: newer.path) }
            #expect(refusal.description.contains(newer.path) && refusal.description.contains("'\(version)'"))
        }
    }
}
