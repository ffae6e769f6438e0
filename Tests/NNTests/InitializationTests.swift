import Testing
@testable import NN

/// Largest |(A A^T or A^T A) - I| entry for a [rows, cols] matrix.
private func orthogonalityError(_ w: Tensor<Double>, gram transposeFirst: Bool) -> Double {
    let n = transposeFirst ? w.cols : w.rows
    let g = Tensor<Double>(zeros: n, n)
    GEMM.multiply(w, w, transposeA: transposeFirst, transposeB: !transposeFirst, into: g, backend: .swift)
    var worst = 0.0
    for i in 0..<n { for j in 0..<n { worst = max(worst, abs(g[i, j] - (i == j ? 1 : 0))) } }
    return worst
}

// MARK: - Orthogonal

@Test(arguments: [(64, 14), (3, 64), (64, 64), (17, 5)])
func orthogonalInitialisation(rows: Int, cols: Int) {
    var layout = ParameterLayout()
    let linear = Linear(cols, rows, name: "l", layout: &layout)
    let store = ParameterStore<Double>(layout: layout)
    var rng = Xoshiro256(seed: 3)
    linear.initialize(store, scheme: .orthogonal(gain: 1), rng: &rng)
    let w = store.value(linear.weight)
    // Tall: orthonormal columns (W^T W = I); wide: orthonormal rows (W W^T = I).
    #expect(orthogonalityError(w, gram: rows >= cols) < 1e-12)
}

// MARK: - Zero and PyTorch default

@Test func zeroInitKeepsDefaultBiases() {
    var layout = ParameterLayout()
    let linear = Linear(16, 256, name: "l", layout: &layout)
    let store = ParameterStore<Float>(layout: layout)
    var rng = Xoshiro256(seed: 4)
    linear.initialize(store, scheme: .zero, rng: &rng)
    #expect(store.value(linear.weight).scalars.allSatisfy { $0 == 0 })
    let bias = store.value(linear.bias).scalars
    #expect(bias.allSatisfy { abs($0) <= 0.25 } && Set(bias).count > 200)
}

@Test func pytorchDefaultIsUniformWithinTheFanInBound() {
    var layout = ParameterLayout()
    let linear = Linear(100, 50, name: "l", layout: &layout)
    let store = ParameterStore<Float>(layout: layout)
    var rng = Xoshiro256(seed: 5)
    linear.initialize(store, scheme: .pytorchDefault, rng: &rng)
    let w = store.value(linear.weight).scalars
    #expect(w.allSatisfy { abs($0) <= 0.1 })
    #expect(w.contains { $0 > 0.09 } && w.contains { $0 < -0.09 })
    let mean = w.reduce(0, +) / Float(w.count), variance = w.map { $0 * $0 }.reduce(0, +) / Float(w.count)
    #expect(abs(mean) < 0.005 && abs(variance - 0.01 / 3) < 0.0003)  // U(-b, b): variance b^2 / 3
}
