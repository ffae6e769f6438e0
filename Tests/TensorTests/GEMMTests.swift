import Testing
@testable import Tensor

/// C = alpha op(A) op(B) + beta C computed naively in Float64.
private func reference(_ a: [Double], _ b: [Double], _ c: [Double], m: Int, n: Int, k: Int,
                       transA: Bool, transB: Bool, alpha: Double, beta: Double) -> [Double] {
    var out = [Double](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = 0.0
            for p in 0..<k {
                let av = transA ? a[p * m + i] : a[i * k + p]
                let bv = transB ? b[j * k + p] : b[p * n + j]
                s += av * bv
            }
            out[i * n + j] = alpha * s + (beta == 0 ? 0 : beta * c[i * n + j])
        }
    }
    return out
}

private func random(_ count: Int, seed: UInt64) -> [Double] {
    var rng = Xoshiro256(seed: seed)
    return (0..<count).map { _ in rng.nextUniform(Double.self) * 2 - 1 }
}

/// Largest relative error of a GEMM against the Float64 reference.
private func gemmError<S: TensorScalar>(_: S.Type, m: Int, n: Int, k: Int, transA: Bool, transB: Bool,
                                        alpha: Double, beta: Double, backend: GEMMBackend) -> Double {
    let a = random(m * k, seed: 1), b = random(k * n, seed: 2), c = random(m * n, seed: 3)
    let ta = Tensor<S>(rows: transA ? k : m, cols: transA ? m : k, a.map { S($0) })
    let tb = Tensor<S>(rows: transB ? n : k, cols: transB ? k : n, b.map { S($0) })
    let tc = Tensor<S>(rows: m, cols: n, c.map { S($0) })
    let used = GEMM.multiply(ta, tb, transposeA: transA, transposeB: transB, into: tc,
                             alpha: S(alpha), beta: S(beta), backend: backend)
    #expect(used == backend)
    let expected = reference(a.map { Double(S($0)) }, b.map { Double(S($0)) }, c.map { Double(S($0)) },
                             m: m, n: n, k: k, transA: transA, transB: transB, alpha: alpha, beta: beta)
    var worst = 0.0
    for i in 0..<(m * n) { worst = max(worst, abs(Double(tc[flat: i]) - expected[i]) / max(1, abs(expected[i]))) }
    return worst
}

private let shapes: [(Int, Int, Int)] = [(1, 1, 1), (3, 17, 33), (17, 3, 1), (33, 255, 17), (255, 33, 3),
                                         (64, 64, 300), (8, 32, 16), (9, 1, 257),
                                         (1, 64, 14), (1, 5, 70), (1, 3, 64)]  // single rows: acting at batch 1
private let transposes = [(false, false), (false, true), (true, false), (true, true)]

/// Checks every shape and alpha/beta pair for one backend in Float and Double.
private func checkAllShapes(backend: GEMMBackend, transA: Bool, transB: Bool) {
    for (m, n, k) in shapes {
        for (alpha, beta) in [(1.0, 0.0), (1.0, 1.0), (-0.5, 2.0)] {
            let f = gemmError(Float.self, m: m, n: n, k: k, transA: transA, transB: transB,
                              alpha: alpha, beta: beta, backend: backend)
            let d = gemmError(Double.self, m: m, n: n, k: k, transA: transA, transB: transB,
                              alpha: alpha, beta: beta, backend: backend)
            #expect(f < 1e-5 * Double(k).squareRoot(), "float \(m)x\(n)x\(k) alpha \(alpha) beta \(beta)")
            #expect(d < 1e-13 * Double(k), "double \(m)x\(n)x\(k) alpha \(alpha) beta \(beta)")
        }
    }
}

// MARK: - Pure-Swift GEMM

@Test(arguments: transposes)
func swiftGEMMMatchesReference(transA: Bool, transB: Bool) {
    checkAllShapes(backend: .swift, transA: transA, transB: transB)
}

@Test func swiftGEMMWithBetaZeroIgnoresStaleOutput() {
    let a = Tensor<Float>(rows: 2, cols: 2, [1, 2, 3, 4]), b = Tensor<Float>(rows: 2, cols: 2, [1, 0, 0, 1])
    let c = Tensor<Float>(repeating: .nan, rows: 2, cols: 2)
    GEMM.multiply(a, b, into: c, backend: .swift)
    #expect(c.scalars == [1, 2, 3, 4])
}

// MARK: - OpenBLAS

@Test(arguments: transposes)
func blasGEMMMatchesReference(transA: Bool, transB: Bool) throws {
    let info = BLAS.load()
    try #require(info.loaded, "OpenBLAS is installed on this machine; \(info.summary)")
    checkAllShapes(backend: .blas, transA: transA, transB: transB)
}

// MARK: - Routing

@Test func routingIsAFixedRuleOfShapeAndVectorWidths() {
    let none = GEMMRouting(blasVectorBits: nil, swiftVectorBits: 512)
    #expect(none.backend(m: 256, n: 256, k: 256) == .swift)
    let narrowBLAS = GEMMRouting(blasVectorBits: 256, swiftVectorBits: 512)
    #expect(narrowBLAS.backend(m: 256, n: 256, k: 256) == .swift)
    #expect(narrowBLAS.backend(m: 256, n: 3, k: 64) == .blas)
    #expect(narrowBLAS.backend(m: 64, n: 11, k: 256) == .blas)
    #expect(narrowBLAS.backend(m: 1, n: 64, k: 14) == .swift)
    // AVX-512 as two 256-bit halves (Zen 4): the Haswell kernel is as wide as the Swift one.
    let halves = GEMMRouting(blasVectorBits: 256, swiftVectorBits: 512, datapathBits: 256)
    #expect(halves.backend(m: 256, n: 256, k: 256) == .blas)
    let sameWidth = GEMMRouting(blasVectorBits: 512, swiftVectorBits: 512)
    #expect(sameWidth.backend(m: 256, n: 256, k: 256) == .blas)
    #expect(sameWidth.backend(m: 1, n: 64, k: 64) == .swift)
    #expect(sameWidth.backend(m: 1, n: 256, k: 256) == .blas)
}

@Test func automaticRunsTheRoutedKernel() {
    let routing = GEMMRouting.current()
    for (m, n, k) in [(256, 64, 64), (1, 64, 14), (256, 3, 64)] {
        let c = Tensor<Float>(zeros: m, n)
        let used = GEMM.multiply(Tensor(zeros: m, k), Tensor(zeros: n, k), transposeB: true, into: c)
        #expect(used == routing.backend(m: m, n: n, k: k), "\(m)x\(n)x\(k)")
    }
}

@Test func kernelVectorWidthsByCoreName() {
    #expect(BLAS.vectorBits(kernel: "SkylakeX") == 512)
    #expect(BLAS.vectorBits(kernel: "Haswell") == 256)
    #expect(BLAS.vectorBits(kernel: "Zen") == 256)
    #expect(BLAS.vectorBits(kernel: "Prescott") == 128)
    #expect(BLAS.vectorBits(kernel: nil) == 128)
}
