import Foundation
import Testing
@testable import MEow

/// α·log ∫ exp(Q(s, a)/α) da for one state, by a uniform grid over u = atanh(a) (docs/algorithm.md §8.2).
///
/// With a = tanh(u), da = (1 − a²) du on each axis; the integrand is smooth in u, so the
/// rectangle rule converges fast. `exact` is the integral as the spec writes it; `compensated`
/// weighs by (1 − a² + ε32) instead of (1 − a²), which cancels the ε32 that Q keeps inside
/// its tanh term (§2.5), so it must equal V to rounding: what is left of `exact − V` is then
/// the ε32 bias alone (1e−7 level), not an error in the flow. The grid spans the u-mass: every pre-tanh output the flow
/// generates for |ε_i| ≤ 6.5 lies inside it (the mass beyond is below 1e−10).
private func quadrature(_ model: DoubleFlow, state: [Double],
                        points n: Int) throws -> (exact: Double, compensated: Double) {
    let d = model.flow.actionDimension
    let alpha = model.flow.alpha  // the Float config's α in Float64 (0.05 is not exact in Float)
    // Probe the generation direction for the extent of the u-mass.
    let probe = 29, probeRows = Int(pow(Double(probe), Double(d)))
    let noise = Tensor<Double>(zeros: probeRows, d)
    for r in 0..<probeRows {
        var index = r
        for i in 0..<d {
            noise[r, i] = -6.5 + 13 * Double(index % probe) / Double(probe - 1)
            index /= probe
        }
    }
    let extent = model.preTanh(repeatedRows(state, probeRows), noise: noise).scalars.map(abs).max()!
    let bound = extent + 0.5
    // atanh(clamp(tanh u)) must return u everywhere the integrand is not negligible.
    try #require(bound < Foundation.atanh(1 - 1e-5) - 0.05, "grid bound \(bound) reaches the action clamp")
    let step = 2 * bound / Double(n - 1)
    let rows = Int(pow(Double(n), Double(d)))
    let actions = Tensor<Double>(zeros: rows, d)
    for r in 0..<rows {
        var index = r
        for i in 0..<d {
            actions[r, i] = Foundation.tanh(-bound + Double(index % n) * step)
            index /= n
        }
    }
    let q = model.softQ(repeatedRows(state, rows), actions)[0]
    func integral(epsilon: Double) -> Double {
        let logTerms = (0..<rows).map { r in
            (0..<d).reduce(q[r] / alpha) { acc, i in acc + Foundation.log(1 - actions[r, i] * actions[r, i] + epsilon) }
        }
        return alpha * (logSumExp(logTerms) + Double(d) * Foundation.log(step))
    }
    return (integral(epsilon: 0), integral(epsilon: MEowFlow<Double>.tanhEpsilon))
}

// MARK: - V(s) = α log ∫ exp(Q/α) da

@Test(arguments: [(0.25, -5.0, -0.3, UInt64(31)), (0.05, -3.0, -0.5, UInt64(32)), (1.0, -1.0, -0.3, UInt64(33))])
func softValueIsTheLogPartitionFunctionIn1D(alpha: Double, sigmaMin: Double, sigmaMax: Double, seed: UInt64) throws {
    let model = DoubleFlow(config: smallConfig(alpha: Float(alpha), logSigma: Float(sigmaMin)...Float(sigmaMax), hidden: 32),
                           ds: 3, d: 1, seed: seed)
    model.randomize(scale: 0.2, seed: seed + 1)
    let state = [0.4, -1.2, 0.8]
    let v = model.softValues(repeatedRows(state, 1))[0][0]
    let integral = try quadrature(model, state: state, points: 4001)
    #expect(abs(v - integral.exact) < 1e-6 * max(1, abs(v)), "V \(v) vs quadrature \(integral.exact)")
    #expect(abs(v - integral.compensated) < 1e-10 * max(1, abs(v)), "V \(v) vs quadrature \(integral.compensated)")
}

// Serialized: each case integrates for seconds on the calling thread; one at a time leaves the other
// cooperative-pool thread to the async tests.
@Test(.serialized, arguments: [(0.2, -3.0, -0.3, UInt64(41)), (1.0, -1.0, -0.3, UInt64(42))])
func softValueIsTheLogPartitionFunctionIn2D(alpha: Double, sigmaMin: Double, sigmaMax: Double, seed: UInt64) throws {
    let model = DoubleFlow(config: smallConfig(alpha: Float(alpha), logSigma: Float(sigmaMin)...Float(sigmaMax), hidden: 16),
                           ds: 3, d: 2, seed: seed)
    model.randomize(scale: 0.2, seed: seed + 1)
    let state = [-0.5, 0.9, 0.2]
    let v = model.softValues(repeatedRows(state, 1))[0][0]
    let integral = try quadrature(model, state: state, points: 201)
    #expect(abs(v - integral.exact) < 1e-6 * max(1, abs(v)), "V \(v) vs quadrature \(integral.exact)")
    #expect(abs(v - integral.compensated) < 1e-10 * max(1, abs(v)), "V \(v) vs quadrature \(integral.compensated)")
}

// MARK: - Sampling matches the density (§8.2)

@Test func sampledActionsFollowExpOfQMinusVOverAlpha() throws {
    // The Float agent samples; a Float64 copy of its weights gives π = exp((Q − V)/α).
    let config = smallConfig(alpha: 0.25, logSigma: -3 ... -0.3, hidden: 16)
    let agent = try MEowAgent(config: config, observationDimension: 3, actionDimension: 1)
    let model = DoubleFlow(config: config, ds: 3, d: 1)
    model.randomize(scale: 0.4, seed: 51)
    try agent.loadPolicyTensors(model.flow.layout.slots.map { slot in
        NamedTensor(name: slot.name, shape: slot.savedShape, values: model.store.value(slot).scalars.map { Float($0) })
    })
    for slot in model.flow.layout.slots {  // the exact Float weights, in Float64
        model.store.value(slot).assign(agent.online.value(slot).converted(to: Double.self))
    }
    let state: [Float] = [0.2, -0.4, 1.0]
    let n = 60_000
    var rng = Xoshiro256(seed: 52)
    let samples = agent.act(observations: Array(Array(repeating: state, count: n).joined()), count: n,
                            deterministic: false, rng: &rng).map(Double.init).sorted()
    let (low, high) = (samples[n / 100], samples[n - 1 - n / 100])
    let bins = 30, width = (high - low) / Double(bins)
    var counts = [Int](repeating: 0, count: bins)
    for a in samples where a >= low && a < high { counts[min(Int((a - low) / width), bins - 1)] += 1 }

    // Expected mass per bin: ∫ π(a) da = ∫ exp((Q − V)/α)(1 − tanh² u) du, 64 midpoints per bin.
    let perBin = 64
    let u = (0..<(bins * perBin)).map { i -> (Double, Double) in
        let (a0, a1) = (low + Double(i / perBin) * width, low + Double(i / perBin + 1) * width)
        let (u0, u1) = (Foundation.atanh(a0), Foundation.atanh(a1))
        let du = (u1 - u0) / Double(perBin)
        return (u0 + (Double(i % perBin) + 0.5) * du, du)
    }
    let actions = Tensor<Double>(rows: u.count, cols: 1, u.map { Foundation.tanh($0.0) })
    let stateRow = state.map(Double.init)
    let q = model.softQ(repeatedRows(stateRow, u.count), actions)[0]
    let v = model.softValues(repeatedRows(stateRow, 1))[0][0]
    var chiSquare = 0.0
    for b in 0..<bins {
        var mass = 0.0
        for i in (b * perBin)..<((b + 1) * perBin) {
            let a = actions[i, 0]
            mass += Foundation.exp((q[i] - v) / model.flow.alpha) * (1 - a * a) * u[i].1
        }
        let observed = Double(counts[b]) / Double(n)
        // Binomial noise: about 2 % of the mass in the central bins, 8 % in the outer ones.
        let deviation = (mass * (1 - mass) / Double(n)).squareRoot()
        #expect(abs(observed - mass) < 4.5 * deviation, "bin \(b): observed \(observed), density \(mass)")
        chiSquare += (observed - mass) * (observed - mass) / (deviation * deviation)
    }
    // 30 bins: the 99.9 % point of χ²(30) is 59.7.
    #expect(chiSquare < 59.7)
}
