import Foundation
import NN

/// Results of `meow-bench core`, as printed and as written with `--json`.
struct CoreResults: Codable {
    struct GEMMRow: Codable {
        var shape: String
        var blasGFLOPS: Double?
        var swiftGFLOPS: Double
        /// Pure-Swift time / OpenBLAS time.
        var swiftOverBLAS: Double?
    }

    struct MLPRow: Codable {
        var name: String
        var forwardMicroseconds: Double
        var backwardMicroseconds: Double
        var inferenceMicroseconds: Double
        /// No-grad forward of one row (acting latency).
        var singleRowInferenceMicroseconds: Double
    }

    struct ActivationRow: Codable {
        var name: String
        var gigabytesPerSecond: Double
        /// Copy bandwidth / this kernel's bandwidth (1 = as fast as memcpy).
        var copyOverKernel: Double
        /// glibc loop time / this kernel's time, where a glibc version exists.
        var speedupOverGlibc: Double?
    }

    var blas: String
    var kernel: String?
    var gemm: [GEMMRow] = []
    var mlp: [MLPRow] = []
    var update: [String: Double] = [:]
    var adam: [String: Double] = [:]
    var activations: [ActivationRow] = []

    func printTable() {
        if !gemm.isEmpty { printGEMM() }
        if !mlp.isEmpty {
            print("\nMLP at batch 256 (median us)")
            print(pad("network", 40) + pad("forward", 10) + pad("backward", 10) + pad("no-grad", 10) + "no-grad batch 1")
            for row in mlp {
                print(pad(row.name, 40) + pad(f(row.forwardMicroseconds), 10) + pad(f(row.backwardMicroseconds), 10)
                      + pad(f(row.inferenceMicroseconds), 10) + f(row.singleRowInferenceMicroseconds))
            }
        }
        if !update.isEmpty {
            print("\nMEow-shaped update, Hopper dims, batch 256 (median us)")
            for (k, v) in update.sorted(by: { $0.key < $1.key }) { print(pad(k, 40) + f(v)) }
        }
        if !adam.isEmpty {
            print("\nOptimizer over a flat store")
            for (k, v) in adam.sorted(by: { $0.key < $1.key }) { print(pad(k, 40) + f(v)) }
        }
        if !activations.isEmpty {
            print("\nActivations over 1M floats")
            print(pad("kernel", 20) + pad("GB/s", 10) + pad("copy/kernel", 14) + "speed-up over glibc")
            for row in activations {
                print(pad(row.name, 20) + pad(f(row.gigabytesPerSecond), 10) + pad(f(row.copyOverKernel, 2), 14)
                      + f(row.speedupOverGlibc, 1))
            }
        }
    }

    private func f(_ x: Double?, _ digits: Int = 1) -> String { x.map { String(format: "%.\(digits)f", $0) } ?? "-" }

    private func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }

    private func printGEMM() {
        print("\nGEMM, 1 thread (GFLOP/s, kernel \(kernel ?? "none"))")
        print(pad("shape (MxNxK, op)", 26) + pad("OpenBLAS", 10) + pad("Swift", 10) + "Swift time / BLAS time")
        for row in gemm {
            print(pad(row.shape, 26) + pad(f(row.blasGFLOPS), 10) + pad(f(row.swiftGFLOPS), 10) + f(row.swiftOverBLAS, 2))
        }
    }
}

/// The measurements; every figure is the median over `repetitions` timed runs after a warm-up.
struct CoreMeasurements {
    let repetitions: Int

    /// Median seconds of `body` (after two warm-up calls).
    func median(_ body: () -> Void) -> Double {
        body()
        body()
        var times: [Double] = []
        for _ in 0..<repetitions {
            let start = DispatchTime.now().uptimeNanoseconds
            body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
        }
        return times.sorted()[times.count / 2]
    }

    static func random(_ rows: Int, _ cols: Int, seed: UInt64) -> Tensor<Float> {
        var rng = Xoshiro256(seed: seed)
        let t = Tensor<Float>(zeros: rows, cols)
        Kernels.fillUniform(t, lower: -1, upper: 1, rng: &rng)
        return t
    }

    // MARK: - GEMM

    func gemm(blasLoaded: Bool) -> [CoreResults.GEMMRow] {
        // (M, N, K, transposeB): 256^3, then the forward (x W^T) and weight-gradient (g^T x) shapes of MEow's MLPs.
        var shapes: [(Int, Int, Int, Bool, Bool)] = [(256, 256, 256, false, false)]
        for sizes in [[14, 64, 64, 3], [11, 256, 256, 1]] {
            for (fanIn, fanOut) in zip(sizes, sizes.dropFirst()) {
                shapes.append((256, fanOut, fanIn, false, true))   // y = x W^T
                shapes.append((fanOut, fanIn, 256, true, false))   // dW = g^T x
            }
        }
        return shapes.map { m, n, k, ta, tb in
            let a = ta ? Self.random(k, m, seed: 1) : Self.random(m, k, seed: 1)
            let b = tb ? Self.random(n, k, seed: 2) : Self.random(k, n, seed: 2)
            let c = Tensor<Float>(zeros: m, n)
            let flops = 2.0 * Double(m * n * k)
            let swift = median { GEMM.multiply(a, b, transposeA: ta, transposeB: tb, into: c, backend: .swift) }
            let blas = blasLoaded
                ? median { GEMM.multiply(a, b, transposeA: ta, transposeB: tb, into: c, backend: .blas) } : nil
            let op = (ta ? "T" : "N") + (tb ? "T" : "N")
            return CoreResults.GEMMRow(shape: "\(m)x\(n)x\(k) \(op)", blasGFLOPS: blas.map { flops / $0 / 1e9 },
                                       swiftGFLOPS: flops / swift / 1e9, swiftOverBLAS: blas.map { swift / $0 })
        }
    }

    // MARK: - MLPs

    struct Network {
        let name: String
        let mlp: MLP
        let store: ParameterStore<Float>
        let input: Tensor<Float>
    }

    static func network(_ name: String, _ config: MLP.Configuration, seed: UInt64) -> Network {
        var layout = ParameterLayout()
        let mlp = MLP(config, prefix: name, layout: &layout)
        let store = ParameterStore<Float>(layout: layout)
        var rng = Xoshiro256(seed: seed)
        mlp.initialize(store, rng: &rng)
        return Network(name: name, mlp: mlp, store: store, input: random(256, config.sizes[0], seed: seed + 1))
    }

    static let coupling = MLP.Configuration(sizes: [14, 64, 64, 3], layerNorm: true, dropout: 0.1,
                                            initialization: .orthogonal())
    static let shift = MLP.Configuration(sizes: [11, 256, 256, 1], initialization: .zero)

    func mlps() -> [CoreResults.MLPRow] {
        [("coupling [14,64,64,3] LN+Swish+dropout", Self.coupling), ("shift [11,256,256,1] Swish", Self.shift)]
            .map { name, config in
                let net = Self.network("net", config, seed: 3)
                let tape = Tape<Float>(), inference = Tape<Float>(recording: false)
                var rng = Xoshiro256(seed: 4)
                var loss: Variable<Float>?
                let forward = median {
                    tape.reset()
                    let y = net.mlp.forward(tape.constant(net.input), store: net.store, tape: tape, training: &rng)
                    loss = tape.mean(tape.square(y))
                }
                let total = median {
                    tape.reset()
                    net.store.zeroGradients()
                    let y = net.mlp.forward(tape.constant(net.input), store: net.store, tape: tape, training: &rng)
                    loss = tape.mean(tape.square(y))
                    tape.backward(from: loss!)
                }
                let noGrad = median {
                    inference.reset()
                    _ = net.mlp.forward(inference.constant(net.input), store: net.store, tape: inference)
                }
                let row = net.input.rows(0..<1)
                let single = median {
                    inference.reset()
                    _ = net.mlp.forward(inference.constant(row), store: net.store, tape: inference)
                }
                return CoreResults.MLPRow(name: name, forwardMicroseconds: forward * 1e6,
                                          backwardMicroseconds: (total - forward) * 1e6, inferenceMicroseconds: noGrad * 1e6,
                                          singleRowInferenceMicroseconds: single * 1e6)
            }
    }

    /// The network work of one MEow update at Hopper dims (ds 11, d 3), without the flow's glue ops.
    ///
    /// Online: 4 coupling nets, h_sigma and 2 shift heads forward + backward;
    /// target: h_sigma and 2 shift heads without gradients; then clip, Adam, Polyak.
    func meowLikeUpdate() -> [String: Double] {
        var layout = ParameterLayout()
        let couplings = (1...4).map { MLP(Self.coupling, prefix: "coupling\($0)", layout: &layout) }
        let sigma = MLP(.init(sizes: [11, 64, 64, 3], initialization: .zero), prefix: "sigma", layout: &layout)
        let shifts = (1...2).map { MLP(Self.shift, prefix: "shift\($0)", layout: &layout) }
        let online = ParameterStore<Float>(layout: layout), target = ParameterStore<Float>(layout: layout)
        var rng = Xoshiro256(seed: 5)
        for m in couplings + [sigma] + shifts { m.initialize(online, rng: &rng) }
        target.copyValues(from: online)
        let adam = Adam<Float>(layout: layout)
        let state = Self.random(256, 11, seed: 6), couplingInput = Self.random(256, 14, seed: 7)
        let tape = Tape<Float>(), inference = Tape<Float>(recording: false)
        let step = median {
            inference.reset()
            let s = inference.constant(state)
            var targets = [sigma.forward(s, store: target, tape: inference)]
            targets += shifts.map { $0.forward(s, store: target, tape: inference) }
            tape.reset()
            online.zeroGradients()
            let x = tape.constant(couplingInput), so = tape.constant(state)
            var outputs = couplings.map { $0.forward(x, store: online, tape: tape, training: &rng) }
            outputs.append(sigma.forward(so, store: online, tape: tape))
            outputs += shifts.map { $0.forward(so, store: online, tape: tape, training: &rng) }
            let loss = outputs.map { tape.sum(tape.square($0)) }.reduce(tape.constant(Tensor(zeros: 1, 1))) { tape.add($0, $1) }
            tape.backward(from: loss)
            online.clipGradientNorm(maxNorm: 30)
            adam.update(online)
            target.polyakUpdate(toward: online, tau: 0.005)
        }
        return ["parameters": Double(layout.parameterCount), "update us (networks + optimizer)": step * 1e6]
    }

    // MARK: - Adam

    func adam() -> [String: Double] {
        var layout = ParameterLayout()
        _ = layout.add("p", count: 170_000)
        let store = ParameterStore<Float>(layout: layout)
        var rng = Xoshiro256(seed: 8)
        Kernels.fillNormal(store.gradients, rng: &rng)
        let adam = Adam<Float>(layout: layout)
        let step = median { adam.update(store) }
        let clip = median { store.clipGradientNorm(maxNorm: 1e9) }
        let target = ParameterStore<Float>(layout: layout)
        let polyak = median { target.polyakUpdate(toward: store, tau: 0.005) }
        return ["Adam step us (170k params)": step * 1e6, "grad-norm clip us (170k)": clip * 1e6,
                "Polyak update us (170k)": polyak * 1e6]
    }

    // MARK: - Activations

    func activations() -> [CoreResults.ActivationRow] {
        let n = 1 << 20
        let x = Self.random(1024, 1024, seed: 9), y = Tensor<Float>(zeros: 1024, 1024)
        let beta = Tensor<Float>(repeating: 1, rows: 1, cols: 1024)
        let bytes = Double(2 * 4 * n)
        let copy = median { y.assign(x) }
        let xs = x.scalars
        var out = [Float](repeating: 0, count: n)
        func glibc(_ f: (Float) -> Float) -> Double {
            median {
                out.withUnsafeMutableBufferPointer { o in
                    xs.withUnsafeBufferPointer { i in for k in 0..<n { o[k] = f(i[k]) } }
                }
            }
        }
        let kernels: [(String, () -> Void, Double?)] = [
            ("exp", { Kernels.map(.exp, x, into: y) }, glibc(expf)),
            ("tanh", { Kernels.map(.tanh, x, into: y) }, glibc(tanhf)),
            ("sigmoid", { Kernels.map(.sigmoid, x, into: y) }, glibc { 1 / (1 + expf(-$0)) }),
            ("swish (beta)", { Kernels.swish(x, beta: beta, into: y) }, glibc { $0 / (1 + expf(-$0)) }),
            ("log", { Kernels.map(.log, x, into: y) }, nil),
        ]
        var rows = [CoreResults.ActivationRow(name: "memory copy", gigabytesPerSecond: bytes / copy / 1e9,
                                              copyOverKernel: 1, speedupOverGlibc: nil)]
        for (name, body, glibcTime) in kernels {
            let t = median(body)
            rows.append(.init(name: name, gigabytesPerSecond: bytes / t / 1e9, copyOverKernel: t / copy,
                              speedupOverGlibc: glibcTime.map { $0 / t }))
        }
        return rows
    }
}
