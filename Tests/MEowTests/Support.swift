import Foundation
@testable import MEow

/// A Float64 flow with its own store, for the numerical checks of docs/algorithm.md §8.
struct DoubleFlow {
    let flow: MEowFlow<Double>
    let store: ParameterStore<Double>

    /// A flow initialised as docs/algorithm.md §2.9 prescribes.
    init(config: MEowConfig, ds: Int, d: Int, seed: UInt64 = 1) {
        flow = MEowFlow(config: config, observationDimension: ds, actionDimension: d)
        store = ParameterStore(layout: flow.layout)
        var rng = Xoshiro256(seed: seed)
        flow.initialize(store, rng: &rng)
    }

    /// Overwrites every parameter with N(0, scale²) (LayerNorm gains and Swish slopes around 1),
    /// so no part of the flow is trivial (zero-initialised nets are constants).
    func randomize(scale: Double, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        for slot in flow.layout.slots {
            let t = store.value(slot)
            let aroundOne = slot.name.hasSuffix("norm.gamma") || slot.name.hasSuffix("swish.beta")
            Kernels.fillNormal(t, mean: aroundOne ? 1 : 0, std: scale, rng: &rng)
        }
    }

    /// Parameters whose name starts with `prefix`.
    func parameterCount(prefix: String) -> Int {
        flow.layout.slots.filter { $0.name.hasPrefix(prefix) }.reduce(0) { $0 + $1.count }
    }

    /// Density direction in eval mode on an inference tape.
    func density(_ states: Tensor<Double>, _ actions: Tensor<Double>, tape: Tape<Double>) -> MEowFlow<Double>.Density {
        var eval: Xoshiro256? = nil
        return flow.density(states: tape.constant(states), actions: tape.constant(actions), store: store, tape: tape,
                            dropout: &eval)
    }

    /// Q_j(s, a) per head, eval mode.
    func softQ(_ states: Tensor<Double>, _ actions: Tensor<Double>) -> [[Double]] {
        let tape = Tape<Double>(recording: false)
        let density = density(states, actions, tape: tape)
        let shifts = flow.rewardShifts(tape.constant(states), store: store, tape: tape)
        return flow.softQ(kernel: density.kernel, shifts: shifts, tape: tape).map(\.value.scalars)
    }

    /// V_j(s) per head from the state-only path.
    func softValues(_ states: Tensor<Double>) -> [[Double]] {
        let tape = Tape<Double>(recording: false)
        return flow.softValues(tape.constant(states), store: store, tape: tape).map(\.value.scalars)
    }

    /// Generated actions for latent noise ε (nil: deterministic).
    func generate(_ states: Tensor<Double>, noise: Tensor<Double>?) -> Tensor<Double> {
        let tape = Tape<Double>(recording: false)
        return flow.generate(states: tape.constant(states), noise: noise.map(tape.constant), store: store, tape: tape)
            .value.copy()
    }

    /// The pre-tanh generation output z_K for latent noise ε.
    func preTanh(_ states: Tensor<Double>, noise: Tensor<Double>) -> Tensor<Double> {
        let tape = Tape<Double>(recording: false)
        let s = tape.constant(states)
        let z0 = tape.multiply(tape.exp(flow.logSigma(s, store: store, tape: tape)), tape.constant(noise))
        return flow.latentToPreTanh(z0, states: s, store: store, tape: tape).value.copy()
    }
}

/// A small config for fast debug-mode checks: the structure of §2.8 with narrower nets.
func smallConfig(alpha: Float = 0.25, logSigma: ClosedRange<Float> = -5 ... -0.3, hidden: Int = 16) -> MEowConfig {
    var c = MEowConfig()
    c.alpha = alpha
    (c.logSigmaMin, c.logSigmaMax) = (logSigma.lowerBound, logSigma.upperBound)
    (c.flowHidden, c.shiftHidden) = (hidden, hidden)
    return c
}

func uniformTensor<S: TensorScalar>(_ rows: Int, _ cols: Int, _ range: ClosedRange<Double>, seed: UInt64) -> Tensor<S> {
    var rng = Xoshiro256(seed: seed)
    let t = Tensor<S>(zeros: rows, cols)
    Kernels.fillUniform(t, lower: S(range.lowerBound), upper: S(range.upperBound), rng: &rng)
    return t
}

func normalTensor(_ rows: Int, _ cols: Int, seed: UInt64) -> Tensor<Double> {
    var rng = Xoshiro256(seed: seed)
    let t = Tensor<Double>(zeros: rows, cols)
    Kernels.fillNormal(t, rng: &rng)
    return t
}

/// The same row repeated `count` times.
func repeatedRows(_ row: [Double], _ count: Int) -> Tensor<Double> {
    Tensor(rows: count, cols: row.count, Array((0..<count).map { _ in row }.joined()))
}

/// log Σ exp(x), stable.
func logSumExp(_ x: [Double]) -> Double {
    let m = x.max()!
    return m + Foundation.log(x.reduce(0) { $0 + Foundation.exp($1 - m) })
}

/// Largest absolute difference of two equally long sequences.
func maxAbsDifference(_ a: [Double], _ b: [Double]) -> Double {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
