import Foundation
import Testing
@testable import MEow

/// Runs python3 with `arguments`; nil when python3 cannot be started.
private func runPython(_ arguments: [String]) -> (status: Int32, output: String)? {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    do { try process.run() } catch { return nil }
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// True when python3 with numpy and safetensors is available; the Python test is skipped (and says why) otherwise.
private let pythonHasSafetensors: Bool = runPython(["-c", "import numpy, safetensors.numpy"])?.status == 0

private func temporaryPath(_ name: String) -> String {
    FileManager.default.temporaryDirectory.appendingPathComponent("meow-\(UUID().uuidString)-\(name)").path
}

private func agent(seed: UInt64 = 1, _ configure: (inout MEowConfig) -> Void = { _ in }) throws -> MEowAgent {
    var config = MEowConfig.preset("hopper")!
    config.seed = seed
    configure(&config)
    return try MEowAgent(config: config, observationDimension: 11, actionDimension: 3)
}

private let observations: [Float] = uniformTensor(4, 11, -2...2, seed: 77).scalars

private func deterministicActions(_ agent: MEowAgent) -> [Float] {
    var rng = Xoshiro256(seed: 0)
    return agent.act(observations: observations, count: 4, deterministic: true, rng: &rng)
}

/// Trains a little so the weights are not just the initialisation.
private func trained(_ agent: MEowAgent) -> MEowAgent {
    let rows = 16
    _ = agent.update(observations: uniformTensor(rows, 11, -2...2, seed: 1).scalars,
                     actions: uniformTensor(rows, 3, -1...1, seed: 2).scalars,
                     rewards: uniformTensor(rows, 1, -1...1, seed: 3).scalars,
                     terminations: [Float](repeating: 0, count: rows),
                     nextObservations: uniformTensor(rows, 11, -2...2, seed: 4).scalars, count: rows)
    return agent
}

// MARK: - Tensors

@Test func policyTensorsCarryEveryParameterWithPyTorchShapes() throws {
    let a = try agent()
    let tensors = a.policyTensors()
    #expect(tensors.map(\.name) == a.flow.layout.slots.map(\.name))
    #expect(tensors.reduce(0) { $0 + $1.values.count } == 167_313)
    let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0) })
    #expect(byName["coupling1.layer0.weight"]?.shape == [64, 14])
    #expect(byName["coupling1.layer0.norm.gamma"]?.shape == [64])
    #expect(byName["reward_shift2.layer2.weight"]?.shape == [1, 256])
    #expect(byName["log_sigma_net.layer2.bias"]?.shape == [3])
}

@Test func loadingTensorsReproducesThePolicy() throws {
    let source = trained(try agent(seed: 1)), copy = try agent(seed: 2)
    #expect(deterministicActions(copy) != deterministicActions(source))
    try copy.loadPolicyTensors(source.policyTensors())
    #expect(deterministicActions(copy) == deterministicActions(source))
    #expect(copy.online.values.scalars == source.online.values.scalars)
}

@Test func loadingRejectsMismatchedTensorsAndWritesNothing() throws {
    let a = try agent()
    let good = trained(try agent(seed: 3)).policyTensors()
    let before = a.online.values.scalars
    func rejects(_ expected: MEowError, _ edit: (inout [NamedTensor]) -> Void) {
        var tensors = good
        edit(&tensors)
        #expect(throws: expected) { try a.loadPolicyTensors(tensors) }
        #expect(a.online.values.scalars == before)
    }
    rejects(.missingTensor(name: "coupling2.layer1.bias")) { $0.removeAll { $0.name == "coupling2.layer1.bias" } }
    rejects(.unexpectedTensor(name: "coupling5.layer0.weight")) {
        $0.append(NamedTensor(name: "coupling5.layer0.weight", shape: [1], values: [0]))
    }
    rejects(.missingTensor(name: "reward_shift1.layer0.weight")) {
        $0[$0.firstIndex { $0.name == "reward_shift1.layer0.weight" }!].name = "reward_shift1.layer0.weights"
    }
    rejects(.shapeMismatch(name: "log_sigma_net.layer0.weight", expected: [64, 11], found: [11, 64])) {
        $0[0].shape = [11, 64]
    }
    rejects(.valueCountMismatch(name: "log_sigma_net.layer0.weight", shape: [64, 11], count: 703)) {
        $0[0].values.removeLast()
    }
    rejects(.duplicateTensor(name: "log_sigma_net.layer0.weight")) { $0.append($0[0]) }
}

@Test func anAblatedPolicyDoesNotLoadIntoAFullAgent() throws {
    let single = try agent { $0.clippedDoubleQ = false }
    #expect(throws: MEowError.missingTensor(name: "reward_shift2.layer0.weight")) {
        try (try agent()).loadPolicyTensors(single.policyTensors())
    }
}

// MARK: - Files

@Test func savedPolicyLoadsBack() throws {
    let source = trained(try agent(seed: 1)), copy = try agent(seed: 2)
    let path = temporaryPath("policy.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try source.savePolicy(to: path)
    try copy.loadPolicy(from: path)
    #expect(copy.online.values.scalars == source.online.values.scalars)
    #expect(deterministicActions(copy) == deterministicActions(source))
}

@Test func loadingChecksTheMetadata() throws {
    let path = temporaryPath("policy.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try agent().savePolicy(to: path)
    let cheetah = try agent { $0.logSigmaMax = 2 }
    #expect(throws: MEowError.metadataMismatch(key: "log_sigma_max", expected: "2.0", found: "-0.3")) {
        try cheetah.loadPolicy(from: path)
    }
    let walker = try MEowAgent(config: MEowConfig.preset("walker2d")!, observationDimension: 17, actionDimension: 6)
    #expect(throws: MEowError.metadataMismatch(key: "observation_dimension", expected: "17", found: "11")) {
        try walker.loadPolicy(from: path)
    }
    // α does not change the actions, so a policy trained with another α loads.
    try agent { $0.alpha = 0.1 }.loadPolicy(from: path)
}

@Test func loadingRejectsMissingAndCorruptFiles() throws {
    let a = try agent()
    let path = temporaryPath("broken.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    #expect(throws: MEowError.self) { try a.loadPolicy(from: path) }
    try a.savePolicy(to: path)
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count - 4).write(to: URL(fileURLWithPath: path))
    #expect(throws: MEowError.self) { try a.loadPolicy(from: path) }
    try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
    #expect(throws: MEowError.safetensors(.truncated(needed: 8, available: 3))) { try a.loadPolicy(from: path) }
}

@Test(.enabled(if: pythonHasSafetensors, "python3 with numpy and safetensors is not installed: Python interop unchecked"))
func pythonSafetensorsOpensThePolicy() throws {
    let source = trained(try agent())
    let path = temporaryPath("policy.safetensors")
    defer { try? FileManager.default.removeItem(atPath: path) }
    try source.savePolicy(to: path)
    let script = """
        import json, sys
        from safetensors import safe_open
        from safetensors.numpy import load_file
        tensors = load_file(sys.argv[1])
        with safe_open(sys.argv[1], framework="np") as f:
            metadata = f.metadata()
        out = {name: {"shape": list(t.shape), "dtype": str(t.dtype), "first": float(t.flat[0]),
                      "sum": float(t.astype("float64").sum())} for name, t in tensors.items()}
        print(json.dumps({"metadata": metadata, "tensors": out}))
        """
    let result = try #require(runPython(["-c", script, path]))
    try #require(result.status == 0, "python failed: \(result.output)")
    let json = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
    let metadata = try #require(json["metadata"] as? [String: String])
    #expect(metadata == source.policyMetadata)
    let tensors = try #require(json["tensors"] as? [String: [String: Any]])
    let expected = source.policyTensors()
    #expect(Set(tensors.keys) == Set(expected.map(\.name)))
    for tensor in expected {
        let entry = try #require(tensors[tensor.name])
        #expect((entry["shape"] as? [Int]) == tensor.shape, "\(tensor.name)")
        #expect((entry["dtype"] as? String) == "float32")
        // Compared in Float: Foundation's JSON parser may be one Double ulp off Python's repr.
        #expect((entry["first"] as? Double).map(Float.init) == tensor.values[0], "\(tensor.name)")
        let sum = tensor.values.reduce(0.0) { $0 + Double($1) }
        #expect(abs((entry["sum"] as? Double ?? .nan) - sum) <= 1e-9 * max(1, abs(sum)), "\(tensor.name)")
    }
}
