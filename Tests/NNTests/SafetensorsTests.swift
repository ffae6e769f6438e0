import Foundation
import Testing
@testable import NN

private func sampleStore() -> (MLP, ParameterStore<Float>) {
    var layout = ParameterLayout()
    let mlp = MLP(.init(sizes: [3, 5, 1], layerNorm: true), prefix: "shift1", layout: &layout)
    let store = ParameterStore<Float>(layout: layout)
    var rng = Xoshiro256(seed: 12)
    mlp.initialize(store, rng: &rng)
    return (mlp, store)
}

// MARK: - Round trip

@Test func roundTripRestoresEveryValue() throws {
    let (_, store) = sampleStore()
    let bytes = Safetensors.encode(store, metadata: ["format": "pt"])
    #expect(bytes.count % 4 == 0)
    let header = Int(bytes[0..<8].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    #expect(header % 8 == 0)
    let restored = ParameterStore<Float>(layout: store.layout)
    try Safetensors.decode(bytes, into: restored)
    #expect(restored.values.scalars == store.values.scalars)
}

// MARK: - Validation

@Test func loadingRejectsMismatchedFiles() throws {
    let (_, store) = sampleStore()
    let bytes = Safetensors.encode(store)
    var other = ParameterLayout()
    _ = MLP(.init(sizes: [3, 6, 1], layerNorm: true), prefix: "shift1", layout: &other)
    #expect(throws: SafetensorsError.shapeMismatch(name: "shift1.layer0.weight", expected: [6, 3], found: [5, 3])) {
        try Safetensors.decode(bytes, into: ParameterStore<Float>(layout: other))
    }
    var renamed = ParameterLayout()
    _ = MLP(.init(sizes: [3, 5, 1], layerNorm: true), prefix: "shift2", layout: &renamed)
    #expect(throws: SafetensorsError.missingTensor(name: "shift2.layer0.weight")) {
        try Safetensors.decode(bytes, into: ParameterStore<Float>(layout: renamed))
    }
    #expect(throws: SafetensorsError.dtypeMismatch(name: "shift1.layer0.weight", expected: "F64", found: "F32")) {
        try Safetensors.decode(bytes, into: ParameterStore<Double>(layout: store.layout))
    }
    var smaller = ParameterLayout()
    _ = smaller.add("shift1.layer0.weight", rows: 5, cols: 3)
    #expect(throws: SafetensorsError.self) { try Safetensors.decode(bytes, into: ParameterStore<Float>(layout: smaller)) }
}

@Test func everyTruncationIsATypedError() {
    let (_, store) = sampleStore()
    let bytes = Safetensors.encode(store)
    for cut in stride(from: 0, to: bytes.count, by: 7) {
        #expect(throws: SafetensorsError.self) {
            try Safetensors.decode(Array(bytes[0..<cut]), into: ParameterStore<Float>(layout: store.layout))
        }
    }
}

// MARK: - Python interop

@Test func pythonSafetensorsOpensOurFiles() throws {
    let (mlp, store) = sampleStore()
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("meow-st-\(getpid()).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try Safetensors.save(store, to: url)
    let script = """
    import sys
    try:
        from safetensors.numpy import load_file
    except ImportError:
        print("SKIP safetensors not installed"); sys.exit(0)
    t = load_file(sys.argv[1])
    for k in sorted(t):
        v = t[k]
        print(k, str(v.dtype), ",".join(map(str, v.shape)), repr(float(v.reshape(-1)[0])), repr(float(v.sum(dtype="float64"))))
    """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "-c", script, url.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch {
        print("skipping Python interop: python3 not found (\(error))")
        return
    }
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    if output.hasPrefix("SKIP") {
        print("skipping Python interop: \(output)")
        return
    }
    #expect(process.terminationStatus == 0)
    let lines = output.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    #expect(lines.map { $0[0] } == store.layout.slots.map(\.name).sorted())
    for line in lines {
        let slot = store.layout.slot(named: line[0])!
        let values = store.value(slot).scalars
        #expect(line[1] == "float32")
        #expect(line[2] == slot.savedShape.map(String.init).joined(separator: ","))
        #expect(Float(Double(line[3])!) == values[0])
        #expect(abs(Double(line[4])! - values.reduce(0.0) { $0 + Double($1) }) < 1e-9)
    }
    #expect(mlp.output.weight.savedShape == [1, 5])
}
