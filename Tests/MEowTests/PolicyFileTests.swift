import Foundation
import Testing
@testable import MEow

/// `MEowAgent.fromPolicyFile` (a policy file read on its own) and `qValues`.
@Suite struct PolicyFileTests {
    private static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("meow-\(UUID().uuidString)-\(name)").path
    }

    /// Not the defaults anywhere it matters: widths, couplings, one head, σ bounds, α.
    private static func source() throws -> MEowAgent {
        var config = MEowConfig()
        config.flowHidden = 24
        config.shiftHidden = 12
        config.couplingLayers = 2
        config.clippedDoubleQ = false
        config.logSigmaMin = -4
        config.logSigmaMax = -0.5
        config.alpha = 0.1
        config.seed = 9
        let agent = try MEowAgent(config: config, observationDimension: 5, actionDimension: 3)
        let rows = 16
        _ = agent.update(observations: uniformTensor(rows, 5, -2...2, seed: 1).scalars,
                         actions: uniformTensor(rows, 3, -1...1, seed: 2).scalars,
                         rewards: uniformTensor(rows, 1, -1...1, seed: 3).scalars,
                         terminations: [Float](repeating: 0, count: rows),
                         nextObservations: uniformTensor(rows, 5, -2...2, seed: 4).scalars, count: rows)
        return agent
    }

    private static let observations: [Float] = uniformTensor(6, 5, -2...2, seed: 5).scalars

    // MARK: - Rebuilding from the file

    @Test func theFileAloneRebuildsThePolicy() throws {
        let original = try Self.source()
        let path = Self.temporaryPath("policy.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        try original.savePolicy(to: path)
        let loaded = try MEowAgent.fromPolicyFile(path)
        #expect(loaded.observationDimension == 5 && loaded.actionDimension == 3)
        #expect(loaded.config.flowHidden == 24 && loaded.config.shiftHidden == 12 && loaded.config.couplingLayers == 2)
        #expect(loaded.config.rewardShift && !loaded.config.clippedDoubleQ)
        #expect(loaded.config.logSigmaMin == -4 && loaded.config.logSigmaMax == -0.5 && loaded.config.alpha == 0.1)
        var rngA = Xoshiro256(seed: 3), rngB = Xoshiro256(seed: 3)
        let actions = original.act(observations: Self.observations, count: 6, deterministic: false, rng: &rngA)
        #expect(loaded.act(observations: Self.observations, count: 6, deterministic: false, rng: &rngB) == actions)
        #expect(loaded.values(observations: Self.observations, count: 6)
                == original.values(observations: Self.observations, count: 6))
        #expect(loaded.qValues(observations: Self.observations, actions: actions, count: 6)
                == original.qValues(observations: Self.observations, actions: actions, count: 6))
    }

    @Test func aFileOfAnotherKindIsRefusedByItsMetadata() throws {
        let path = Self.temporaryPath("other.safetensors")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let header = Array("{\"__metadata__\":{\"format\":\"other\"}}".utf8)
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
        try Data(bytes + header).write(to: URL(fileURLWithPath: path))
        #expect(throws: PolicyFormatError.notAPolicy(path: path, format: "other")) {
            try MEowAgent.fromPolicyFile(path)
        }
        #expect(throws: MEowError.self) { try MEowAgent.fromPolicyFile(path + ".missing") }
    }

    // MARK: - Soft Q

    @Test func qMinusVIsAlphaLogPiWithOneHead() throws {
        let agent = try Self.source()
        var rng = Xoshiro256(seed: 4)
        let actions = agent.act(observations: Self.observations, count: 6, deterministic: false, rng: &rng)
        let q = agent.qValues(observations: Self.observations, actions: actions, count: 6)
        let v = agent.values(observations: Self.observations, count: 6)
        let tape = Tape<Float>(recording: false)
        let states = tape.constant(Tensor(rows: 6, cols: 5, Self.observations))
        let chosen = tape.constant(Tensor(rows: 6, cols: 3, actions))
        var evalMode: Xoshiro256? = nil
        let density = agent.flow.density(states: states, actions: chosen, store: agent.online, tape: tape,
                                         dropout: &evalMode)
        let logPi = agent.flow.logProbability(density, tape: tape).value.scalars
        for i in 0..<6 {
            #expect(abs((q[i] - v[i]) - 0.1 * logPi[i]) < 1e-4, "row \(i): Q \(q[i]), V \(v[i]), log π \(logPi[i])")
        }
    }
}
