import Foundation
import Testing
@testable import MEow

/// A Hopper-shaped Float64 flow with random weights everywhere (zero-initialised nets would be constants).
private func randomHopperFlow(seed: UInt64, alpha: Float = 0.25) -> DoubleFlow {
    let model = DoubleFlow(config: smallConfig(alpha: alpha, hidden: 32), ds: 11, d: 3, seed: seed)
    model.randomize(scale: 0.3, seed: seed + 100)
    return model
}

/// Determinant of a small square matrix by Gaussian elimination with partial pivoting.
private func determinant(_ matrix: [[Double]]) -> Double {
    var a = matrix
    let n = a.count
    var det = 1.0
    for col in 0..<n {
        let pivot = (col..<n).max { abs(a[$0][col]) < abs(a[$1][col]) }!
        if pivot != col { a.swapAt(pivot, col); det = -det }
        det *= a[col][col]
        for row in (col + 1)..<n where a[col][col] != 0 {
            let f = a[row][col] / a[col][col]
            for k in col..<n { a[row][k] -= f * a[col][k] }
        }
    }
    return det
}

// MARK: - §8.1: α·log π = Q − V, and V does not depend on a

@Test func logPolicyEqualsQMinusVOverAlpha() {
    let model = randomHopperFlow(seed: 11)
    let alpha = 0.25
    let states: Tensor<Double> = uniformTensor(10, 11, -2...2, seed: 1)
    let actions: Tensor<Double> = uniformTensor(10, 3, -0.95...0.95, seed: 2)
    let tape = Tape<Double>(recording: false)
    let density = model.density(states, actions, tape: tape)
    let q = model.softQ(states, actions)
    let v = model.softValues(states)
    let logPi = model.flow.logProbability(density, tape: tape).value.scalars
    #expect(q.count == 2 && v.count == 2)
    for j in 0..<2 {
        let qMinusV = zip(q[j], v[j]).map { $0 - $1 }
        #expect(maxAbsDifference(qMinusV, logPi.map { alpha * $0 }) < 1e-10)
    }

    // log π by the change of variables with a numerically built Jacobian of a ↦ ε = u0/σ(s):
    // log π = log N(ε; 0, I) + log |det ∂ε/∂a|. The ε32 inside the tanh term makes the formula
    // differ from the exact density by about ε32/(1 − a²) per dimension.
    let h = 1e-6
    func epsilon(_ a: Tensor<Double>) -> Tensor<Double> {
        let t = Tape<Double>(recording: false)
        let dens = model.density(states, a, tape: t)
        return t.multiply(dens.latent, t.exp(t.negate(dens.logSigma))).value.copy()
    }
    let center = epsilon(actions)
    var columns: [Tensor<Double>] = []
    for i in 0..<3 {
        let plus = actions.copy(), minus = actions.copy()
        for r in 0..<10 { plus[r, i] += h; minus[r, i] -= h }
        let (ep, em) = (epsilon(plus), epsilon(minus))
        let column = Tensor<Double>(zeros: 10, 3)
        for r in 0..<10 { for k in 0..<3 { column[r, k] = (ep[r, k] - em[r, k]) / (2 * h) } }
        columns.append(column)
    }
    for r in 0..<10 {
        let jacobian = (0..<3).map { k in (0..<3).map { i in columns[i][r, k] } }
        let gaussian = (0..<3).reduce(0.0) { $0 - 0.5 * center[r, $1] * center[r, $1] } - 1.5 * Foundation.log(2 * Double.pi)
        let numeric = gaussian + Foundation.log(abs(determinant(jacobian)))
        #expect(abs(numeric - logPi[r]) < 1e-5, "row \(r): \(numeric) vs \(logPi[r])")
    }
}

@Test func valueFromTheStateActionPathEqualsTheStateOnlyPath() {
    let model = randomHopperFlow(seed: 12)
    let states: Tensor<Double> = uniformTensor(10, 11, -2...2, seed: 3)
    let tape = Tape<Double>(recording: false)
    let stateOnly = model.softValues(states)
    for seed: UInt64 in [4, 5] {
        let actions: Tensor<Double> = uniformTensor(10, 3, -1...1, seed: seed)
        let density = model.density(states, actions, tape: tape)
        let shifts = model.flow.rewardShifts(tape.constant(states), store: model.store, tape: tape)
        let fromPair = model.flow.softValues(logSigma: density.logSigma, shifts: shifts, tape: tape).map(\.value.scalars)
        for j in 0..<2 { #expect(fromPair[j] == stateOnly[j]) }
    }
}

// MARK: - SCDQ (§4.4, §8.2)

@Test func bothShiftHeadsDefineTheSamePolicy() {
    let model = randomHopperFlow(seed: 13)
    let states: Tensor<Double> = uniformTensor(32, 11, -2...2, seed: 6)
    let actions: Tensor<Double> = uniformTensor(32, 3, -1...1, seed: 7)
    let q = model.softQ(states, actions), v = model.softValues(states)
    #expect(maxAbsDifference(q[0], q[1]) > 1e-3, "the heads differ")
    let first = zip(q[0], v[0]).map { $0 - $1 }, second = zip(q[1], v[1]).map { $0 - $1 }
    // Equal up to rounding relative to |Q| (random σ makes Q large).
    let scale = q[0].map(abs).max()!
    #expect(maxAbsDifference(first, second) < 1e-13 * max(1, scale))
}

// MARK: - Inverse (docs/algorithm.md §2.4, §7.1)

@Test func densityDirectionInvertsGeneration() throws {
    let model = randomHopperFlow(seed: 14)
    let states: Tensor<Double> = uniformTensor(64, 11, -2...2, seed: 8)
    let noise = normalTensor(64, 3, seed: 9)
    let actions = model.generate(states, noise: noise)
    // Away from the clamp the round trip is exact up to rounding.
    try #require(actions.scalars.allSatisfy { abs($0) < 0.9999 })
    let tape = Tape<Double>(recording: false)
    let density = model.density(states, actions, tape: tape)
    let recovered = tape.multiply(density.latent, tape.exp(tape.negate(density.logSigma))).value.scalars
    #expect(maxAbsDifference(recovered, noise.scalars) < 1e-8)
}

@Test func floatAgentRoundTripsItsOwnActions() throws {
    let agent = try MEowAgent(config: MEowConfig(), observationDimension: 11, actionDimension: 3)
    let observations: Tensor<Float> = uniformTensor(32, 11, -2...2, seed: 10)
    var rng = Xoshiro256(seed: 1)
    let actions = agent.act(observations: observations.scalars, count: 32, deterministic: true, rng: &rng)
    // The deterministic action's latent is z0 = 0.
    let tape = Tape<Float>(recording: false)
    var eval: Xoshiro256? = nil
    let density = agent.flow.density(states: tape.constant(observations),
                                     actions: tape.constant(Tensor(rows: 32, cols: 3, actions)),
                                     store: agent.online, tape: tape, dropout: &eval)
    #expect(density.latent.value.scalars.allSatisfy { abs($0) < 1e-4 })
}

// MARK: - Deterministic action (docs/algorithm.md §3.5, §7.15)

@Test func deterministicActionIsTheFlowOfZero() throws {
    let agent = try MEowAgent(config: MEowConfig(), observationDimension: 11, actionDimension: 3)
    let observations: [Float] = uniformTensor(8, 11, -2...2, seed: 11).scalars
    var rng = Xoshiro256(seed: 2)
    let before = rng
    let deterministic = agent.act(observations: observations, count: 8, deterministic: true, rng: &rng)
    #expect(rng == before, "z0 = 0 draws nothing")
    // ε = 0 through the stochastic path gives z0 = σ ⊙ 0 = 0 as well.
    let tape = Tape<Float>(recording: false)
    let states = tape.constant(Tensor(rows: 8, cols: 11, observations))
    let viaZeroNoise = agent.flow.generate(states: states, noise: tape.constant(Tensor(zeros: 8, 3)),
                                           store: agent.online, tape: tape).value.scalars
    #expect(deterministic == viaZeroNoise)
    let stochastic = agent.act(observations: observations, count: 8, deterministic: false, rng: &rng)
    #expect(stochastic != deterministic)
}

@Test func deterministicActionIsThePreTanhMode() {
    // §3.5, §8.2: tanh(flow(0)) equals tanh(argmax_u of the pre-tanh density). For d = 1 the
    // pre-tanh log-density is −½(u0(u)/σ)² − log σ − ½ log 2π; search u on a fine grid.
    let model = DoubleFlow(config: smallConfig(alpha: 0.25, logSigma: -2 ... -0.3), ds: 3, d: 1, seed: 21)
    model.randomize(scale: 0.4, seed: 22)
    let state = [0.3, -0.7, 1.1]
    let mode = Foundation.atanh(model.generate(repeatedRows(state, 1), noise: nil)[0, 0])
    let n = 2001, step = 1e-4
    let grid = (0..<n).map { mode + Double($0 - n / 2) * step }
    let tape = Tape<Double>(recording: false)
    let density = model.density(repeatedRows(state, n), Tensor(rows: n, cols: 1, grid.map { Foundation.tanh($0) }),
                                tape: tape)
    let u0 = density.latent.value.scalars
    let best = (0..<n).min { abs(u0[$0]) < abs(u0[$1]) }!
    #expect(abs(grid[best] - mode) <= step)
}
