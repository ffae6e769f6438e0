import Foundation
import MEow

/// What a benchmark reads the time from.
///
/// Wall time is what a user waits for; the calling thread's CPU time leaves out the time the
/// thread waits for a core, so on a shared, loaded machine it is the steadier of the two.
enum BenchClock: String, CaseIterable {
    case wall
    case thread

    /// Now, in nanoseconds.
    func nanoseconds() -> UInt64 {
        switch self {
        case .wall: return DispatchTime.now().uptimeNanoseconds
        case .thread:
            var spec = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
            return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
        }
    }

    /// Median over `repeats` of (elapsed / calls) in µs; `body` returns how many calls it made.
    func median(_ repeats: Int, _ body: () -> Int) -> Double {
        var samples: [Double] = []
        for _ in 0..<repeats {
            let start = nanoseconds()
            let calls = body()
            samples.append(Double(nanoseconds() - start) * 1e-3 / Double(calls))
        }
        return samples.sorted()[samples.count / 2]
    }
}

/// The GEMM floor of an update: its GEMM FLOPs at the sgemm rate of the fastest kernel in this process.
///
/// FLOPs are counted by the tapes as 2·m·n·k over every GEMM an update runs, forward and backward
/// (docs/benchmarks.md, "FLOP counting"); the rate is measured in the same run at 256×256×256.
struct GEMMRate {
    /// GFLOP/s of OpenBLAS's kernel, when loaded.
    var blas: Double?
    /// GFLOP/s of the pure-Swift kernel.
    var swift: Double

    /// The faster of the two.
    var best: Double { max(blas ?? 0, swift) }
    var bestName: String { (blas ?? 0) > swift ? "OpenBLAS" : "pure Swift" }

    /// Times C = A·B at 256³ with each kernel, interleaved repeat by repeat.
    static func measure(clock: BenchClock, repeats: Int, blasLoaded: Bool) -> GEMMRate {
        let n = 256
        let a = random(n, n, seed: 1), b = random(n, n, seed: 2), c = Tensor<Float>(zeros: n, n)
        let flops = 2.0 * Double(n * n * n)
        var swiftTimes: [Double] = [], blasTimes: [Double] = []
        let calls = 20
        for _ in 0..<(repeats + 1) {
            swiftTimes.append(clock.median(1) {
                for _ in 0..<calls { GEMM.multiply(a, b, into: c, backend: .swift) }
                return calls
            })
            if blasLoaded {
                blasTimes.append(clock.median(1) {
                    for _ in 0..<calls { GEMM.multiply(a, b, into: c, backend: .blas) }
                    return calls
                })
            }
        }
        func rate(_ times: [Double]) -> Double {
            let sorted = times.dropFirst().sorted()  // the first repeat warms up
            return flops / (sorted[sorted.count / 2] * 1e-6) / 1e9
        }
        return GEMMRate(blas: blasLoaded ? rate(blasTimes) : nil, swift: rate(swiftTimes))
    }

    static func random(_ rows: Int, _ cols: Int, seed: UInt64) -> Tensor<Float> {
        var rng = Xoshiro256(seed: seed)
        let t = Tensor<Float>(zeros: rows, cols)
        Kernels.fillUniform(t, lower: -1, upper: 1, rng: &rng)
        return t
    }

    /// Every GEMM shape of one update at `batch` rows: per Linear layer the forward x·Wᵀ (NT), the
    /// weight gradient gᵀ·x (TN) and the input gradient g·W (NN).
    static func updateShapes(ds: Int, d: Int, batch: Int) -> [(m: Int, n: Int, k: Int, ta: Bool, tb: Bool)] {
        var shapes: [(m: Int, n: Int, k: Int, ta: Bool, tb: Bool)] = []
        for sizes in [[ds, 64, 64, d], [d + ds, 64, 64, d], [ds, 256, 256, 1]] {
            for (fanIn, fanOut) in zip(sizes, sizes.dropFirst()) {
                shapes.append((batch, fanOut, fanIn, false, true))
                shapes.append((fanOut, fanIn, batch, true, false))
                shapes.append((batch, fanIn, fanOut, false, false))
            }
        }
        return shapes
    }

    /// Prints, per shape of an update, each kernel's rate and which one `GEMMRouting` picks.
    static func printShapeTable(ds: Int, d: Int, batch: Int, clock: BenchClock, repeats: Int, blasLoaded: Bool) {
        let routing = GEMMRouting.current()
        print("  GEMM shapes (m×n×k op): OpenBLAS GFLOP/s, Swift GFLOP/s, routed to")
        for s in updateShapes(ds: ds, d: d, batch: batch) {
            let a = s.ta ? random(s.k, s.m, seed: 1) : random(s.m, s.k, seed: 1)
            let b = s.tb ? random(s.n, s.k, seed: 2) : random(s.k, s.n, seed: 2)
            let c = Tensor<Float>(zeros: s.m, s.n)
            let flops = 2.0 * Double(s.m * s.n * s.k)
            let calls = max(1, Int(2e7 / flops))
            var swiftTimes: [Double] = [], blasTimes: [Double] = []
            for _ in 0..<repeats {
                swiftTimes.append(clock.median(1) {
                    for _ in 0..<calls { GEMM.multiply(a, b, transposeA: s.ta, transposeB: s.tb, into: c, backend: .swift) }
                    return calls
                })
                if blasLoaded {
                    blasTimes.append(clock.median(1) {
                        for _ in 0..<calls { GEMM.multiply(a, b, transposeA: s.ta, transposeB: s.tb, into: c, backend: .blas) }
                        return calls
                    })
                }
            }
            func gflops(_ t: [Double]) -> Double { flops / (t.sorted()[t.count / 2] * 1e-6) / 1e9 }
            let blas = blasLoaded ? gflops(blasTimes) : nil, swift = gflops(swiftTimes)
            let routed = routing.backend(m: s.m, n: s.n, k: s.k)
            let faster: GEMMBackend = (blas ?? 0) > swift ? .blas : .swift
            let op = (s.ta ? "T" : "N") + (s.tb ? "T" : "N")
            print("    \(s.m)×\(s.n)×\(s.k) \(op)".padding(toLength: 24, withPad: " ", startingAt: 0),
                  blas.map { String(format: "%7.1f", $0) } ?? "      -", String(format: "%7.1f", swift),
                  "  \(routed.rawValue)\(routed == faster ? "" : " (the other is faster)")")
        }
    }
}

/// The PyTorch reference (benchmarks/torch_reference.py), run as a child process in the same benchmark run.
struct TorchReference {
    struct Case: Decodable {
        let name: String
        let update_us: Double
        let action_us: Double
    }

    struct Output: Decodable {
        let torch: String
        let threads: Int
        let cases: [Case]
    }

    /// Runs `script` with `python`; nil (with the reason printed) when it fails, e.g. without torch.
    static func run(python: String, script: String, clock: BenchClock, repeats: Int, updates: Int,
                    actions: Int) -> Output? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script, "--clock", clock.rawValue, "--repeats", "\(repeats)",
                             "--updates", "\(updates)", "--actions", "\(actions)"]
        // One pipe for both streams, read to the end: two pipes read one after the other could
        // deadlock on a chatty stderr. The JSON is the last line that opens a brace.
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            print("PyTorch reference not run (\(python): \(error)); no ratios to it")
            return nil
        }
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = text.split(separator: "\n")
        guard process.terminationStatus == 0, let json = lines.last(where: { $0.hasPrefix("{") }),
              let output = try? JSONDecoder().decode(Output.self, from: Data(json.utf8)) else {
            let reason = lines.last.map(String.init) ?? ""
            print("PyTorch reference failed (exit \(process.terminationStatus): \(reason)); no ratios to it")
            return nil
        }
        return output
    }
}
