import Testing
@testable import Autodiff

private typealias G = GradientCheck
private let tolerance = 1e-7

// MARK: - Linear algebra

@Test func linearWithBiasGradient() {
    let x = G.randomTensor(5, 7, seed: 1), w = G.randomTensor(3, 7, seed: 2), b = G.randomTensor(1, 3, seed: 3)
    let err = G.maxError([x, w, b]) { t, v in t.linear(v[0], weight: v[1], bias: v[2]) }
    #expect(err < tolerance)
}

@Test func linearWithoutBiasGradient() {
    let x = G.randomTensor(4, 3, seed: 4), w = G.randomTensor(6, 3, seed: 5)
    #expect(G.maxError([x, w]) { t, v in t.linear(v[0], weight: v[1], bias: nil) } < tolerance)
}

@Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
func matmulGradient(transposeA: Bool, transposeB: Bool) {
    let a = transposeA ? G.randomTensor(4, 3, seed: 6) : G.randomTensor(3, 4, seed: 6)
    let b = transposeB ? G.randomTensor(5, 4, seed: 7) : G.randomTensor(4, 5, seed: 7)
    let err = G.maxError([a, b]) { t, v in t.matmul(v[0], v[1], transposeA: transposeA, transposeB: transposeB) }
    #expect(err < tolerance)
}

// MARK: - Normalisation and activations

@Test func layerNormGradient() {
    let x = G.randomTensor(4, 19, seed: 8, range: -2...3)
    let gamma = G.randomTensor(1, 19, seed: 9, range: 0.5...1.5), beta = G.randomTensor(1, 19, seed: 10)
    #expect(G.maxError([x, gamma, beta]) { t, v in t.layerNorm(v[0], gamma: v[1], beta: v[2]) } < tolerance)
}

@Test func swishGradient() {
    let x = G.randomTensor(3, 21, seed: 11, range: -4...4), beta = G.randomTensor(1, 21, seed: 12, range: 0.2...2)
    #expect(G.maxError([x, beta]) { t, v in t.swish(v[0], beta: v[1]) } < tolerance)
}

@Test(arguments: [UnaryFunction.exp, .tanh, .sigmoid, .square, .negate, .affine(scale: -2.5, shift: 0.75)])
func unaryGradient(function: UnaryFunction) {
    let x = G.randomTensor(3, 17, seed: 13, range: -3...3)
    #expect(G.maxError([x]) { t, v in t.map(function, v[0]) } < tolerance)
}

@Test func logGradient() {
    let x = G.randomTensor(3, 5, seed: 14, range: 0.2...5)
    #expect(G.maxError([x]) { t, v in t.log(v[0]) } < tolerance)
}

@Test func atanhGradient() {
    let x = G.randomTensor(3, 5, seed: 15, range: -0.9...0.9)
    #expect(G.maxError([x]) { t, v in t.atanh(v[0]) } < tolerance)
}

@Test func clampGradientIsIdentityInsideAndZeroOutside() {
    // Values kept away from the bounds, where the derivative jumps.
    let x = Tensor<Double>(rows: 1, cols: 6, [-2, -0.5, 0.1, 0.7, 1.6, 3])
    #expect(G.maxError([x]) { t, v in t.clamp(v[0], lower: -1, upper: 1) } < tolerance)
    let tape = Tape<Double>()
    let v = tape.parameter(x)
    tape.backward(from: tape.sum(tape.clamp(v, lower: -1, upper: 1)))
    #expect(tape.gradient(of: v)!.scalars == [0, 1, 1, 1, 0, 0])
}

// MARK: - Binary operators with broadcasting

@Test(arguments: [BinaryOperator.add, .subtract, .multiply, .divide])
func binaryGradientWithBroadcasting(op: BinaryOperator) {
    let shapes = [(4, 6), (1, 6), (4, 1), (1, 1)]
    for (i, sa) in shapes.enumerated() {
        for (j, sb) in shapes.enumerated() {
            let a = G.randomTensor(sa.0, sa.1, seed: UInt64(20 + i))
            // Divisors kept away from zero.
            let b = G.randomTensor(sb.0, sb.1, seed: UInt64(30 + j), range: op == .divide ? 0.5...2 : -1...1)
            let err = G.maxError([a, b]) { t, v in t.binary(op, v[0], v[1]) }
            #expect(err < tolerance, "\(op) \(sa) \(sb)")
        }
    }
}

@Test func minimumGradient() {
    let a = G.randomTensor(5, 3, seed: 40), b = G.randomTensor(5, 3, seed: 41)
    #expect(G.maxError([a, b]) { t, v in t.minimum(v[0], v[1]) } < tolerance)
}

@Test func constantMaskGradient() {
    let x = G.randomTensor(4, 5, seed: 42)
    let mask = Tensor<Double>(rows: 1, cols: 5, [1, 0, 1, 0, 1])
    #expect(G.maxError([x]) { t, v in t.multiply(v[0], mask: mask) } < tolerance)
}

// MARK: - Reductions and columns

@Test func reductionGradients() {
    let x = G.randomTensor(5, 7, seed: 43)
    #expect(G.maxError([x]) { t, v in t.rowSum(v[0]) } < tolerance)
    #expect(G.maxError([x]) { t, v in t.rowMean(v[0]) } < tolerance)
    #expect(G.maxError([x]) { t, v in t.columnSum(v[0]) } < tolerance)
    #expect(G.maxError([x]) { t, v in t.columnMean(v[0]) } < tolerance)
    #expect(G.maxError([x]) { t, v in t.sum(v[0]) } < tolerance)
    #expect(G.maxError([x]) { t, v in t.mean(v[0]) } < tolerance)
}

@Test func concatAndSplitGradients() {
    let a = G.randomTensor(3, 2, seed: 44), b = G.randomTensor(3, 5, seed: 45)
    #expect(G.maxError([a, b]) { t, v in t.concatColumns([v[0], v[1], v[0]]) } < tolerance)
    let x = G.randomTensor(3, 7, seed: 46)
    #expect(G.maxError([x]) { t, v in
        let parts = t.splitColumns(v[0], sizes: [2, 4, 1])
        return t.multiply(t.concatColumns([parts[2], parts[0]]), t.columns(parts[1], 1..<4))
    } < tolerance)
}

@Test func linearOverConcatWithConstantTailGradient() {
    // A coupling's first layer: only the leading (non-constant) columns of the input get a gradient.
    let z = G.randomTensor(4, 3, seed: 60), w = G.randomTensor(5, 9, seed: 61), s = G.randomTensor(4, 6, seed: 62)
    let b = G.randomTensor(1, 5, seed: 63)
    #expect(G.maxError([z, w, b]) { t, v in
        t.linear(t.concatColumns([t.multiply(v[0], v[0]), t.constant(s)]), weight: v[1], bias: v[2])
    } < tolerance)
}

@Test func dropoutGradientWithFixedMask() {
    let x = G.randomTensor(6, 9, seed: 47)
    #expect(G.maxError([x]) { t, v in
        var rng = Xoshiro256(seed: 5)  // same mask on every evaluation
        return t.dropout(v[0], probability: 0.3, rng: &rng)
    } < tolerance)
}
