import Testing
@testable import Tensor

// MARK: - Storage and views

@Test func storageIsAlignedAndZeroed() {
    let s = TensorStorage<Float>(capacity: 37)
    let address = UInt(bitPattern: s.buffer(offset: 0, count: 37).baseAddress!)
    #expect(address % 64 == 0)
    #expect((0..<37).allSatisfy { s[$0] == 0 })
}

@Test func viewsShareStorageAndCopiesDoNot() {
    let t = Tensor<Float>(rows: 2, cols: 3, [1, 2, 3, 4, 5, 6])
    let view = t.rows(1..<2)
    view[0, 1] = 50
    #expect(t[1, 1] == 50)
    let copy = t.copy()
    copy[0, 0] = -1
    #expect(t[0, 0] == 1)
    #expect(t.reshaped(3, 2)[2, 1] == 6)
}

// MARK: - Element-wise kernels

@Test func broadcastingBinaryOperators() {
    let a = Tensor<Double>(rows: 2, cols: 3, [1, 2, 3, 4, 5, 6])
    let row = Tensor<Double>(rows: 1, cols: 3, [10, 20, 30]), column = Tensor<Double>(rows: 2, cols: 1, [100, 200])
    let out = Tensor<Double>(zeros: 2, 3)
    Kernels.binary(.add, a, row, into: out)
    #expect(out.scalars == [11, 22, 33, 14, 25, 36])
    Kernels.binary(.multiply, column, a, into: out)
    #expect(out.scalars == [100, 200, 300, 800, 1000, 1200])
    Kernels.binary(.minimum, a, Tensor(repeating: 3.5, rows: 1, cols: 1), into: out)
    #expect(out.scalars == [1, 2, 3, 3.5, 3.5, 3.5])
}

@Test func accumulateReducesOverBroadcastDimensions() {
    let a = Tensor<Double>(rows: 2, cols: 3, [1, 2, 3, 4, 5, 6])
    let rows = Tensor<Double>(zeros: 2, 1), cols = Tensor<Double>(zeros: 1, 3), all = Tensor<Double>(zeros: 1, 1)
    Kernels.accumulate(a, into: rows)
    Kernels.accumulate(a, into: cols)
    Kernels.accumulate(a, scale: 0.5, into: all)
    #expect(rows.scalars == [6, 15] && cols.scalars == [5, 7, 9] && all.scalars == [10.5])
}

@Test func layerNormNormalisesRows() {
    let x = Tensor<Float>(rows: 2, cols: 40, (0..<80).map { Float($0 % 7) * 3 + 1000 })
    let y = Tensor<Float>(zeros: 2, 40), stats = Tensor<Float>(zeros: 2, 2)
    Kernels.layerNorm(x, gamma: Tensor(repeating: 1, rows: 1, cols: 40), beta: Tensor(zeros: 1, 40),
                      epsilon: 1e-5, into: y, stats: stats)
    for r in 0..<2 {
        let row = y.rows(r..<(r + 1)).scalars
        let mean = row.reduce(0, +) / 40, variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 40
        #expect(abs(mean) < 1e-4 && abs(variance - 1) < 1e-3)
    }
}

@Test func dropoutMaskKeepsTheExpectedFraction() {
    var rng = Xoshiro256(seed: 1)
    let mask = Tensor<Float>(zeros: 100, 100)
    Kernels.fillDropoutMask(mask, dropProbability: 0.25, rng: &rng)
    let kept = mask.scalars.filter { $0 != 0 }
    #expect(kept.allSatisfy { abs($0 - 4.0 / 3.0) < 1e-6 })
    #expect(abs(Double(kept.count) / 10_000 - 0.75) < 0.02)
}
