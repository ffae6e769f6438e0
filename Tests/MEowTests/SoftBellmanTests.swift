import Foundation
import Testing
@testable import MEow

/// A small random batch: states, actions, rewards, terminations (some 1), next states.
private struct Batch {
    let states, actions, rewards, terminations, nextStates: Tensor<Double>

    init(rows: Int, ds: Int, d: Int, seed: UInt64) {
        states = uniformTensor(rows, ds, -2...2, seed: seed)
        actions = uniformTensor(rows, d, -0.95...0.95, seed: seed + 1)
        rewards = uniformTensor(rows, 1, -1...1, seed: seed + 2)
        terminations = Tensor(rows: rows, cols: 1, (0..<rows).map { $0 % 3 == 0 ? 1 : 0 })
        nextStates = uniformTensor(rows, ds, -2...2, seed: seed + 3)
    }
}

/// Online and target Float64 flows with random weights, and a batch.
private struct Problem {
    let online, target: DoubleFlow
    let batch: Batch
    let gamma = 0.99

    init(config: MEowConfig, ds: Int = 4, d: Int = 3, rows: Int = 6) {
        online = DoubleFlow(config: config, ds: ds, d: d, seed: 1)
        online.randomize(scale: 0.3, seed: 2)
        target = DoubleFlow(config: config, ds: ds, d: d, seed: 3)
        target.randomize(scale: 0.3, seed: 4)
        batch = Batch(rows: rows, ds: ds, d: d, seed: 5)
    }

    var flow: MEowFlow<Double> { online.flow }

    func bellmanTarget() -> MEowFlow<Double>.BellmanTarget {
        flow.bellmanTarget(rewards: batch.rewards, terminations: batch.terminations, nextStates: batch.nextStates,
                           gamma: gamma, targetStore: target.store, tape: Tape(recording: false))
    }

    /// L(θ) with the dropout masks of `dropoutSeed`, on a tape of the given kind.
    func loss(y: Tensor<Double>, dropoutSeed: UInt64, tape: Tape<Double>) -> MEowFlow<Double>.BellmanLoss {
        var rng = Xoshiro256(seed: dropoutSeed)
        return flow.bellmanLoss(states: batch.states, actions: batch.actions, targets: y, store: online.store,
                                tape: tape, dropout: &rng)
    }
}

// MARK: - The target and the loss, assembled by hand (docs/algorithm.md §4.1, §4.2)

@Test func targetAndLossMatchTheirDefinitions() {
    var config = smallConfig(alpha: 0.25, logSigma: -2 ... -0.3, hidden: 8)
    config.couplingDropout = 0  // so the loss's train-mode Q equals the eval-mode Q below
    let p = Problem(config: config)
    let y = p.bellmanTarget()
    let vNext = p.target.softValues(p.batch.nextStates)
    for r in 0..<6 {
        let bootstrap = min(vNext[0][r], vNext[1][r])
        #expect(y.nextValue[r, 0] == bootstrap)
        let expected = p.batch.rewards[r, 0] + p.gamma * (1 - p.batch.terminations[r, 0]) * bootstrap
        #expect(abs(y.target[r, 0] - expected) < 1e-12 * max(1, abs(expected)))
    }
    let q = p.online.softQ(p.batch.states, p.batch.actions)
    let mse = q.map { head in (0..<6).reduce(0.0) { $0 + pow(head[$1] - y.target[$1, 0], 2) } / 6 }
    let loss = p.loss(y: y.target, dropoutSeed: 1, tape: Tape(recording: false)).loss.value[0, 0]
    #expect(abs(loss - 0.5 * (mse[0] + mse[1])) < 1e-12 * max(1, loss))
}

@Test func singleHeadLossIsOneMSEAndTargetUsesItsHead() {
    var config = smallConfig(hidden: 8)
    config.clippedDoubleQ = false
    config.couplingDropout = 0
    let p = Problem(config: config)
    let y = p.bellmanTarget()
    #expect(y.nextValue.scalars == p.target.softValues(p.batch.nextStates)[0])
    let q = p.online.softQ(p.batch.states, p.batch.actions)
    #expect(q.count == 1)
    let mse = (0..<6).reduce(0.0) { $0 + pow(q[0][$1] - y.target[$1, 0], 2) } / 6
    let loss = p.loss(y: y.target, dropoutSeed: 1, tape: Tape(recording: false)).loss.value[0, 0]
    #expect(abs(loss - mse) < 1e-12 * max(1, loss))
}

@Test func targetIgnoresCouplingNetsAndActions() {
    // Pitfall 11: V̄ needs only h̄_σ and b̄_j, so scrambling every coupling weight changes nothing.
    let p = Problem(config: smallConfig(hidden: 8))
    let before = p.bellmanTarget().target.scalars
    for slot in p.flow.layout.slots where slot.name.hasPrefix("coupling") { p.target.store.value(slot).fill(7) }
    #expect(p.bellmanTarget().target.scalars == before)
}

// MARK: - Gradients (Float64 finite differences)

@Test func lossGradientMatchesFiniteDifferencesAlongRandomDirections() {
    let p = Problem(config: smallConfig(alpha: 0.25, logSigma: -2 ... -0.3, hidden: 8))
    let y = p.bellmanTarget().target.copy()
    let store = p.online.store
    store.zeroGradients()
    let tape = Tape<Double>()
    tape.backward(from: p.loss(y: y, dropoutSeed: 9, tape: tape).loss)
    let gradient = store.gradients.copy()
    // Train mode is on: other dropout masks give another loss.
    let inference = Tape<Double>(recording: false)
    func loss(seed: UInt64 = 9) -> Double { p.loss(y: y, dropoutSeed: seed, tape: inference).loss.value[0, 0] }
    #expect(loss(seed: 10) != loss())

    // One direction over every parameter, then one per module so no module hides behind another.
    let groups = ["", "log_sigma_net.", "coupling", "reward_shift"]
    for (g, prefix) in groups.enumerated() {
        let direction = Tensor<Double>(zeros: 1, store.values.count)
        var rng = Xoshiro256(seed: 100 + UInt64(g))
        for slot in p.flow.layout.slots where slot.name.hasPrefix(prefix) {
            for i in 0..<slot.count { direction[0, slot.offset + i] = rng.nextNormal(Double.self) }
        }
        let analytic = (0..<store.values.count).reduce(0.0) { $0 + gradient[0, $1] * direction[0, $1] }
        let h = 1e-6
        let saved = store.values.copy()
        Kernels.accumulate(direction, scale: h, into: store.values)
        let plus = loss()
        store.values.assign(saved)
        Kernels.accumulate(direction, scale: -h, into: store.values)
        let minus = loss()
        store.values.assign(saved)
        let numeric = (plus - minus) / (2 * h)
        #expect(abs(analytic) > 1e-3, "group '\(prefix)' gets a gradient")
        #expect(abs(analytic - numeric) < 1e-6 * max(1, abs(numeric)), "group '\(prefix)': \(analytic) vs \(numeric)")
    }
}

@Test func oneDimensionalActionsLeaveHalfTheCouplingsWithoutGradient() {
    // Pitfall 14: with d = 1, m = [1], so C1 and C3 are identities and their nets get zero gradient.
    let p = Problem(config: smallConfig(hidden: 8), d: 1)
    let y = p.bellmanTarget().target.copy()
    p.online.store.zeroGradients()
    let tape = Tape<Double>()
    tape.backward(from: p.loss(y: y, dropoutSeed: 3, tape: tape).loss)
    for slot in p.flow.layout.slots where slot.name.hasPrefix("coupling") {
        let norm = p.online.store.gradient(slot).scalars.map(abs).max()!
        if slot.name.hasPrefix("coupling1.") || slot.name.hasPrefix("coupling3.") {
            #expect(norm == 0, "\(slot.name)")
        } else if slot.name.hasSuffix("weight") {
            #expect(norm > 0, "\(slot.name)")
        }
    }
}
