import Foundation
import Testing
@testable import NN

private func makeMLP<S: TensorScalar>(_: S.Type, dropout: Double = 0.1, seed: UInt64 = 1)
    -> (MLP, ParameterStore<S>) {
    var layout = ParameterLayout()
    let mlp = MLP(.init(sizes: [5, 8, 8, 2], layerNorm: true, dropout: dropout, initialization: .orthogonal()),
                  prefix: "coupling1", layout: &layout)
    let store = ParameterStore<S>(layout: layout)
    var rng = Xoshiro256(seed: seed)
    mlp.initialize(store, rng: &rng)
    return (mlp, store)
}

// MARK: - Structure

@Test func parameterNamesExplainThemselves() {
    let (mlp, store) = makeMLP(Float.self)
    let names = store.layout.slots.map(\.name)
    #expect(names.contains("coupling1.layer0.weight"))
    #expect(names.contains("coupling1.layer0.norm.gamma"))
    #expect(names.contains("coupling1.layer1.swish.beta"))
    #expect(names.contains("coupling1.layer2.bias"))
    #expect(store.layout.parameterCount == (5 * 8 + 8 + 3 * 8) + (8 * 8 + 8 + 3 * 8) + (8 * 2 + 2))
    #expect(mlp.slots.count == store.layout.slots.count)
}

@Test func initializationSetsNormAndSwishDefaults() {
    let (mlp, store) = makeMLP(Float.self)
    #expect(store.value(mlp.hidden[0].swishBeta).scalars.allSatisfy { $0 == 1 })
    #expect(store.value(mlp.hidden[0].normGamma!).scalars.allSatisfy { $0 == 1 })
    #expect(store.value(mlp.hidden[0].normBeta!).scalars.allSatisfy { $0 == 0 })
}

// MARK: - Modes

@Test func evalModeIsDeterministicAndTrainModeUsesTheRNG() {
    let (mlp, store) = makeMLP(Float.self, dropout: 0.5)
    let x = Tensor<Float>(rows: 3, cols: 5, (0..<15).map { Float($0) / 7 - 1 })
    let tape = Tape<Float>(recording: false)
    let e1 = mlp.forward(tape.constant(x), store: store, tape: tape).value.copy()
    let e2 = mlp.forward(tape.constant(x), store: store, tape: tape).value.copy()
    #expect(e1.scalars == e2.scalars)
    var r1 = Xoshiro256(seed: 3), r2 = Xoshiro256(seed: 3), r3 = Xoshiro256(seed: 4)
    let t1 = mlp.forward(tape.constant(x), store: store, tape: tape, training: &r1).value.copy()
    let t2 = mlp.forward(tape.constant(x), store: store, tape: tape, training: &r2).value.copy()
    let t3 = mlp.forward(tape.constant(x), store: store, tape: tape, training: &r3).value.copy()
    #expect(t1.scalars == t2.scalars)
    #expect(t1.scalars != t3.scalars)
    #expect(t1.scalars != e1.scalars)
}

@Test func sameModuleRunsOnOnlineAndTargetStores() {
    let (mlp, online) = makeMLP(Float.self)
    let target = ParameterStore<Float>(layout: online.layout)
    target.copyValues(from: online)
    let x = Tensor<Float>(rows: 2, cols: 5, (0..<10).map { Float($0) / 10 })
    let tape = Tape<Float>(recording: false)
    let a = mlp.forward(tape.constant(x), store: online, tape: tape).value.copy()
    let b = mlp.forward(tape.constant(x), store: target, tape: tape).value.copy()
    #expect(a.scalars == b.scalars)
    online.value(mlp.output.bias).fill(5)
    let c = mlp.forward(tape.constant(x), store: online, tape: tape).value.copy()
    #expect(c.scalars != b.scalars)
}

// MARK: - Gradients

@Test func mlpDirectionalDerivativeMatchesFiniteDifference() {
    // LayerNorm + Swish + dropout (fixed mask via a re-seeded RNG) in Float64.
    let (mlp, store) = makeMLP(Double.self, dropout: 0.2)
    let x = Tensor<Double>(rows: 4, cols: 5, (0..<20).map { sin(Double($0)) })
    func loss(_ tape: Tape<Double>) -> Variable<Double> {
        var rng = Xoshiro256(seed: 9)
        let y = mlp.forward(tape.constant(x), store: store, tape: tape, training: &rng)
        return tape.mean(tape.square(y))
    }
    let tape = Tape<Double>()
    store.zeroGradients()
    tape.backward(from: loss(tape))
    var rng = Xoshiro256(seed: 11)
    let direction = Tensor<Double>(zeros: 1, store.values.count)
    Kernels.fillNormal(direction, rng: &rng)
    var analytic = 0.0
    for i in 0..<direction.count { analytic += direction[flat: i] * store.gradients[flat: i] }
    let saved = store.values.copy()
    func shifted(_ h: Double) -> Double {
        for i in 0..<direction.count { store.values[flat: i] = saved[flat: i] + h * direction[flat: i] }
        return loss(Tape<Double>(recording: false)).value[0, 0]
    }
    let h = 1e-5
    let numeric = (shifted(h) - shifted(-h)) / (2 * h)
    store.values.assign(saved)
    #expect(abs(analytic - numeric) <= 1e-7 * max(1, abs(numeric)))
}
