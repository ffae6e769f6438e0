import ArgumentParser
import CommandLineOptions
import Foundation
import MEow

/// Single-thread MEow timings: one update at batch 256, and choosing actions.
///
/// Shapes: Hopper (ds 11, d 3), HalfCheetah (ds 17, d 6; the shape of the PyTorch
/// reference) and Humanoid (ds 376, d 17), with the official widths (docs/algorithm.md §2.8) and
/// each preset's hyperparameters. Each figure is the median over `repeats` of the mean
/// time per call within a repeat. Every case is also timed with Adam's step counter at
/// 10^6, as after a million updates, and printed as a ratio to the early-step time of the
/// same run: the update's cost must not grow with the step count. Each update case also prints its
/// GEMM FLOPs, the floor (FLOPs at the 256³ sgemm rate of the fastest kernel, measured in the same
/// run) and time ÷ floor (docs/benchmarks.md, "FLOP counting"); `--torch-reference PYTHON` runs the
/// PyTorch reference in the same run and prints ratios to it.
/// `--phases` splits an update into the steps of the update (docs/algorithm.md) to show where time goes.
struct AgentBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meow",
        abstract: "Time MEow updates (batch 256) and action selection on one thread.")

    @Option(help: "Timed repeats; the median is reported.")
    var repeats = 7

    @Option(help: "Updates per repeat.")
    var updates = 20

    @Option(help: "Action calls per repeat.")
    var actions = 2000

    @Option(help: "Replay batch size of an update.")
    var batchSize = 256

    @Flag(help: "Also time the phases of one update (target, Q forward, backward, clip, Adam, Polyak).")
    var phases = false

    @Option(help: "Clock: wall, or thread (this thread's CPU time, steadier on a loaded machine).")
    var clock: BenchClock = .wall

    @Flag(help: "Also time every GEMM shape of an update with both kernels and show which one is routed.")
    var gemmShapes = false

    @Option(help: "A Python with torch: run benchmarks/torch_reference.py in this run and print ratios to it.")
    var torchReference: String?

    @Option(help: "Comma-separated cases to run: Hopper, HalfCheetah, Humanoid.")
    var cases = "Hopper,HalfCheetah,Humanoid"

    @Option(help: "The PyTorch reference script.")
    var torchScript = "benchmarks/torch_reference.py"

    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        guard repeats > 0, updates > 0, actions > 0, batchSize > 0 else {
            throw ValidationError("--repeats, --updates, --actions and --batch-size must be positive.")
        }
        let known = Set(Self.shapes.map { $0.0.lowercased() })
        guard cases.split(separator: ",").allSatisfy({ known.contains($0.lowercased()) }) else {
            throw ValidationError("--cases takes a comma-separated list of Hopper, HalfCheetah, Humanoid.")
        }
    }

    /// (name, ds, d) of the benchmark cases.
    static let shapes = [("Hopper", 11, 3), ("HalfCheetah", 17, 6), ("Humanoid", 376, 17)]

    /// The Adam step count of the late-run case: a million updates.
    static let lateStep = 1_000_000

    func run() throws {
        _ = logging.bootstrap(label: "meow.bench")
        let info = BLAS.load()
        for line in info.logLines { print(line) }
        let torch = torchReference.flatMap {
            TorchReference.run(python: $0, script: torchScript, clock: clock, repeats: repeats, updates: updates,
                               actions: actions)
        }
        if let torch { print("PyTorch \(torch.torch), \(torch.threads) thread, same run") }
        let rate = GEMMRate.measure(clock: clock, repeats: repeats, blasLoaded: info.loaded)
        print("sgemm 256×256×256: OpenBLAS \(rate.blas.map { fixed($0) } ?? "-") GFLOP/s, pure Swift \(fixed(rate.swift))"
              + " GFLOP/s; the floor uses the faster (\(rate.bestName))")
        print("MEow, single thread, \(clock.rawValue) clock, median of \(repeats) repeats")
        print(pad("case", 44), pad("µs/call", 10), pad("µs/action", 10), pad("ratio", 11))
        let chosen = Set(cases.split(separator: ",").map { $0.lowercased() })
        for (name, ds, d) in Self.shapes where chosen.contains(name.lowercased()) {
            let preset = MEowConfig.preset(name)!
            let agent = try makeAgent(preset, ds: ds, d: d)
            let update = try timeUpdates(agent)
            let reference = torch?.cases.first { $0.name == name }
            print(pad("\(name) update, batch \(batchSize)", 44), pad(fixed(update), 10), pad("", 10),
                  reference.map { pad(fixed(update / $0.update_us, digits: 3) + "x PyTorch", 11) } ?? "")
            let flops = Double(agent.lastUpdateGEMMFLOPs)
            let floor = flops / (rate.best * 1e3)  // µs at rate.best GFLOP/s
            print(pad("  GEMM \(fixed(flops / 1e6)) MFLOP, floor", 44), pad(fixed(floor), 10), pad("", 10),
                  pad(fixed(update / floor, digits: 3) + "x floor", 11))
            if gemmShapes {
                GEMMRate.printShapeTable(ds: ds, d: d, batch: batchSize, clock: clock, repeats: repeats,
                                         blasLoaded: info.loaded)
            }
            let late = try makeAgent(preset, ds: ds, d: d)
            var state = late.trainingState()
            state.optimizerStep = Self.lateStep
            try late.restore(state)
            let lateUpdate = try timeUpdates(late)
            print(pad("\(name) update at Adam step 10^6", 44), pad(fixed(lateUpdate), 10), pad("", 10),
                  pad(fixed(lateUpdate / update, digits: 3) + "x early", 11))
            for count in [1, 64] {
                for deterministic in [true, false] {
                    let perCall = timeActions(agent, count: count, deterministic: deterministic)
                    let label = "\(name) act, batch \(count), \(deterministic ? "deterministic" : "stochastic")"
                    // The reference times one stochastic action at batch 1.
                    let ratio = count == 1 && !deterministic ? reference.map { perCall / $0.action_us } : nil
                    print(pad(label, 44), pad(fixed(perCall), 10), pad(fixed(perCall / Double(count)), 10),
                          ratio.map { pad(fixed($0, digits: 3) + "x PyTorch", 11) } ?? "")
                }
            }
            if phases { timePhases(preset, ds: ds, d: d) }
        }
    }

    // MARK: - Cases

    func makeAgent(_ preset: MEowConfig, ds: Int, d: Int) throws -> MEowAgent {
        var config = preset
        config.batchSize = batchSize
        return try MEowAgent(config: config, observationDimension: ds, actionDimension: d)
    }

    struct Batch {
        let observations, actions, rewards, terminations, nextObservations: [Float]
    }

    func randomBatch(ds: Int, d: Int, seed: UInt64) -> Batch {
        var rng = Xoshiro256(seed: seed)
        func uniform(_ n: Int, _ range: ClosedRange<Float>) -> [Float] {
            (0..<n).map { _ in range.lowerBound + (range.upperBound - range.lowerBound) * rng.nextUniform(Float.self) }
        }
        return Batch(observations: uniform(batchSize * ds, -2...2), actions: uniform(batchSize * d, -1...1),
                     rewards: uniform(batchSize, -1...1), terminations: (0..<batchSize).map { $0 % 50 == 0 ? 1 : 0 },
                     nextObservations: uniform(batchSize * ds, -2...2))
    }

    /// Median µs per update.
    func timeUpdates(_ agent: MEowAgent) throws -> Double {
        let batch = randomBatch(ds: agent.observationDimension, d: agent.actionDimension, seed: 1)
        func step() -> UpdateMetrics {
            agent.update(observations: batch.observations, actions: batch.actions, rewards: batch.rewards,
                         terminations: batch.terminations, nextObservations: batch.nextObservations, count: batchSize)
        }
        for _ in 0..<3 { _ = step() }  // warm the tapes' workspaces
        let result = median(repeats) {
            for _ in 0..<updates { _ = step() }
            return updates
        }
        guard agent.skippedUpdates == 0 else { throw ValidationError("an update was skipped: the timing is not valid") }
        return result
    }

    /// Median µs per act() call.
    func timeActions(_ agent: MEowAgent, count: Int, deterministic: Bool) -> Double {
        let batch = randomBatch(ds: agent.observationDimension, d: agent.actionDimension, seed: 2)
        let observations = Array(batch.observations.prefix(count * agent.observationDimension))
        var rng = Xoshiro256(seed: 3)
        var sink: Float = 0
        for _ in 0..<10 { sink += agent.act(observations: observations, count: count, deterministic: deterministic, rng: &rng)[0] }
        let calls = max(actions / count, 20)
        let result = median(repeats) {
            for _ in 0..<calls {
                sink += agent.act(observations: observations, count: count, deterministic: deterministic, rng: &rng)[0]
            }
            return calls
        }
        if sink.isNaN { print("(a NaN action was produced)") }
        return result
    }

    /// The steps of an update (docs/algorithm.md), timed one by one on the same shapes as `MEowAgent.update`.
    func timePhases(_ config: MEowConfig, ds: Int, d: Int) {
        let flow = MEowFlow<Float>(config: config, observationDimension: ds, actionDimension: d)
        let online = ParameterStore<Float>(layout: flow.layout), target = ParameterStore<Float>(layout: flow.layout)
        var rng = Xoshiro256(seed: 1)
        flow.initialize(online, rng: &rng)
        target.copyValues(from: online)
        let adam = Adam<Float>(layout: flow.layout, configuration: .init(learningRate: Double(config.learningRate)))
        let b = randomBatch(ds: ds, d: d, seed: 4)
        let states = Tensor(rows: batchSize, cols: ds, b.observations), next = Tensor(rows: batchSize, cols: ds, b.nextObservations)
        let actions = Tensor(rows: batchSize, cols: d, b.actions), rewards = Tensor(rows: batchSize, cols: 1, b.rewards)
        let terminations = Tensor(rows: batchSize, cols: 1, b.terminations)
        let targetTape = Tape<Float>(recording: false), lossTape = Tape<Float>()
        var times = [String: [Double]]()
        let clock = ContinuousClock()
        func timed<T>(_ name: String, _ body: () -> T) -> T {
            let start = clock.now
            let result = body()
            times[name, default: []].append(BenchSupport.microseconds(clock.now - start))
            return result
        }
        for _ in 0..<(updates * repeats + 3) {
            targetTape.reset()
            let y = timed("target value (h̄_σ, b̄_j on s')") {
                flow.bellmanTarget(rewards: rewards, terminations: terminations, nextStates: next,
                                   gamma: Double(config.gamma),
                                   targetStore: target, tape: targetTape)
            }
            lossTape.reset()
            let loss = timed("Q forward + loss (train mode)") {
                online.zeroGradients()
                return flow.bellmanLoss(states: states, actions: actions, targets: y.target, store: online,
                                        tape: lossTape, dropout: &rng)
            }
            timed("backward") { lossTape.backward(from: loss.loss) }
            _ = timed("gradient norm + clip") { online.clipGradientNorm(maxNorm: Double(config.gradClip)) }
            timed("Adam") { adam.update(online) }
            timed("Polyak") { target.polyakUpdate(toward: online, tau: Double(config.tau)) }
        }
        for name in ["target value (h̄_σ, b̄_j on s')", "Q forward + loss (train mode)", "backward",
                     "gradient norm + clip", "Adam", "Polyak"] {
            let sorted = times[name]!.dropFirst(3).sorted()
            print(pad("  phase: \(name)", 44), pad(fixed(sorted[sorted.count / 2]), 10))
        }
    }

    // MARK: - Helpers

    /// Median over repeats of (elapsed / calls) in µs on `clock`; `body` returns how many calls it made.
    func median(_ repeats: Int, _ body: () -> Int) -> Double { clock.median(repeats, body) }

    func fixed(_ value: Double, digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }

    func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s : s + String(repeating: " ", count: width - s.count)
    }
}
extension BenchClock: ExpressibleByArgument {}
