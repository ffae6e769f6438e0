import CBLAS
import Foundation

/// A scalar type tensors can hold: `Float` for training, `Double` for tests.
///
/// Kernels are generic over this protocol and pre-specialised for both
/// conformances (`@_specialize`), so generic callers in other modules reach the
/// `Float` code without per-element dispatch. The transcendental functions are
/// requirements because the fast paths differ by type: `Float` uses this
/// module's SIMD approximations, `Double` (the gradient-check path, where
/// accuracy matters more than speed) uses the C library lane by lane.
public protocol TensorScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable {
    /// Element-wise e^x.
    static func vectorExp(_ x: SIMD16<Self>) -> SIMD16<Self>
    /// Element-wise natural logarithm (nan for negative lanes, -inf at 0).
    static func vectorLog(_ x: SIMD16<Self>) -> SIMD16<Self>
    /// Element-wise hyperbolic tangent.
    static func vectorTanh(_ x: SIMD16<Self>) -> SIMD16<Self>
    /// Element-wise logistic function 1 / (1 + e^-x).
    static func vectorSigmoid(_ x: SIMD16<Self>) -> SIMD16<Self>
    /// Scalar inverse hyperbolic tangent (not a hot path).
    static func scalarAtanh(_ x: Self) -> Self

    /// Runs GEMM through the loaded BLAS library; false when none is loaded.
    static func blasGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                         a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                         beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int) -> Bool
}

extension Float: TensorScalar {
    @inlinable @inline(__always)
    public static func vectorExp(_ x: SIMD16<Float>) -> SIMD16<Float> { SIMDMath.exp(x) }
    @inlinable @inline(__always)
    public static func vectorLog(_ x: SIMD16<Float>) -> SIMD16<Float> { SIMDMath.log(x) }
    @inlinable @inline(__always)
    public static func vectorTanh(_ x: SIMD16<Float>) -> SIMD16<Float> { SIMDMath.tanh(x) }
    @inlinable @inline(__always)
    public static func vectorSigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> { SIMDMath.sigmoid(x) }
    public static func scalarAtanh(_ x: Float) -> Float { Foundation.atanh(x) }

    public static func blasGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                                a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
        guard let sgemm = BLAS.current()?.sgemm else { return false }
        sgemm(Int32(MeowCblasRowMajor.rawValue),
              Int32(transA ? MeowCblasTrans.rawValue : MeowCblasNoTrans.rawValue),
              Int32(transB ? MeowCblasTrans.rawValue : MeowCblasNoTrans.rawValue),
              Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        return true
    }
}

extension Double: TensorScalar {
    public static func vectorExp(_ x: SIMD16<Double>) -> SIMD16<Double> { lanewise(x, Foundation.exp) }
    public static func vectorLog(_ x: SIMD16<Double>) -> SIMD16<Double> { lanewise(x, Foundation.log) }
    public static func vectorTanh(_ x: SIMD16<Double>) -> SIMD16<Double> { lanewise(x, Foundation.tanh) }
    public static func vectorSigmoid(_ x: SIMD16<Double>) -> SIMD16<Double> {
        // NOTE: the two-branch form keeps relative accuracy for very negative x,
        // where 1 / (1 + e^-x) would overflow e^-x.
        lanewise(x) { v in
            let e = Foundation.exp(-Swift.abs(v))
            return v >= 0 ? 1 / (1 + e) : e / (1 + e)
        }
    }
    public static func scalarAtanh(_ x: Double) -> Double { Foundation.atanh(x) }

    private static func lanewise(_ x: SIMD16<Double>, _ f: (Double) -> Double) -> SIMD16<Double> {
        var r = SIMD16<Double>()
        for i in 0..<16 { r[i] = f(x[i]) }
        return r
    }

    public static func blasGEMM(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                                a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                                beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) -> Bool {
        guard let dgemm = BLAS.current()?.dgemm else { return false }
        dgemm(Int32(MeowCblasRowMajor.rawValue),
              Int32(transA ? MeowCblasTrans.rawValue : MeowCblasNoTrans.rawValue),
              Int32(transB ? MeowCblasTrans.rawValue : MeowCblasNoTrans.rawValue),
              Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
        return true
    }
}
