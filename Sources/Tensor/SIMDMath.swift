/// SIMD16<Float> transcendental functions, written out so they vectorise.
///
/// glibc's `expf`/`logf`/`tanhf` are scalar calls, and a MEow update evaluates
/// about a million activations, so libm activations would cost more than all
/// the GEMMs (docs/benchmarks.md, "Numeric core"). Each function is branch-free, handles the IEEE special
/// values explicitly, and stays within a few ulp (max relative error about
/// 3e-7, see TensorTests/SIMDMathTests.swift) over the whole float range,
/// subnormals included.
///
/// Special values, matching the C library:
/// - `exp`: -inf -> 0, +inf and x > 88.72 -> +inf, subnormal results are produced.
/// - `log`: 0 -> -inf, negative or nan -> nan, +inf -> +inf, subnormal inputs exact.
/// - `tanh`: ±inf -> ±1, -0 -> -0.
/// - `sigmoid`: -inf -> 0, +inf -> 1; stays relatively accurate down to the subnormal range.
public enum SIMDMath {
    // NOTE: `.rounded()` and integer conversions of SIMD vectors compile to
    // runtime calls (check the hot kernels' assembly for `call`); the 1.5 * 2^23 "magic number" rounds to nearest
    // in one add and leaves the integer in the low mantissa bits.
    @usableFromInline static let magic: Float = 12_582_912

    /// a * b + c with one rounding (a vfmadd with a target CPU).
    @_transparent
    public static func fma(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: Float) -> SIMD16<Float> {
        SIMD16(repeating: c).addingProduct(a, b)
    }

    /// e^r - 1 by its Taylor series to r^7 / 7!, for |r| <= ln(2)/2 (truncation below 1e-8 relative).
    @_transparent
    public static func expm1Taylor(_ r: SIMD16<Float>) -> SIMD16<Float> {
        var p = SIMD16<Float>(repeating: 1.0 / 5040)
        p = fma(p, r, 1.0 / 720)
        p = fma(p, r, 1.0 / 120)
        p = fma(p, r, 1.0 / 24)
        p = fma(p, r, 1.0 / 6)
        p = fma(p, r, 0.5)
        return r.addingProduct(p, r * r)  // r + r^2 (1/2 + r/6 + ...): the leading term stays exact
    }

    /// e^x for every lane.
    ///
    /// `@_transparent` because it is inlined into tanh and sigmoid, where plain
    /// `@inline(__always)` was observed to leave a call behind.
    @_transparent
    public static func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let xc = pointwiseMin(pointwiseMax(x, SIMD16(repeating: -104)), SIMD16(repeating: 89))
        let t = fma(xc, SIMD16(repeating: 1.442_695_040_888_963_4), magic)  // round(x log2 e) + magic in one rounding
        let n = t - magic
        // NOTE: Cody-Waite reduction: ln 2 split into a short head (exact
        // products with n) and a tail, so r = x - n ln 2 keeps full precision.
        var r = xc.addingProduct(n, -0.693_359_375)
        r = r.addingProduct(n, 2.121_944_4e-4)
        let p = expm1Taylor(r) + 1
        // 2^n as two factors so subnormal results (n down to -150) and the
        // overflow to +inf both come out of ordinary multiplications.
        let ni = unsafeBitCast(t, to: SIMD16<Int32>.self) &- 0x4B40_0000
        let n1 = ni &>> 1
        let n2 = ni &- n1
        let s1 = unsafeBitCast((n1 &+ 127) &<< 23, to: SIMD16<Float>.self)
        let s2 = unsafeBitCast((n2 &+ 127) &<< 23, to: SIMD16<Float>.self)
        let result = p * s1 * s2
        return result.replacing(with: x, where: x .!= x)
    }

    /// Natural logarithm for every lane.
    @inlinable @inline(__always)
    public static func log(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let subnormal = x .< Float.leastNormalMagnitude
        let xs = x.replacing(with: x * 8_388_608, where: subnormal)  // scale subnormals by 2^23
        let bits = unsafeBitCast(xs, to: SIMD16<Int32>.self)
        var e = ((bits &>> 23) & 0xFF) &- 127
        e.replace(with: e &- 23, where: subnormal)
        var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: SIMD16<Float>.self)
        let high = m .> 1.414_213_5
        m.replace(with: m * 0.5, where: high)
        e.replace(with: e &+ 1, where: high)
        let dk = unsafeBitCast(e &+ 0x4B40_0000, to: SIMD16<Float>.self) - magic  // Float(e) without a runtime call
        // NOTE: fdlibm's form log(1+f) = f - (hfsq - s(hfsq + R)) keeps the
        // large term f exact, so the error stays near one ulp for x near 1.
        let f = m - 1
        let s = f / (2 + f)
        let z = s * s
        let w = z * z
        let t1 = w * (0.400_009_72 + w * 0.242_790_79)
        let t2 = z * (0.666_666_63 + w * 0.284_987_87)
        let hfsq = 0.5 * f * f
        let sR = s * (hfsq + t1 + t2)
        var result = dk * 6.931_381_225_6e-1 - ((hfsq - (sR + dk * 9.058_000_614_5e-6)) - f)
        result.replace(with: -.infinity, where: x .== 0)
        result.replace(with: .infinity, where: x .== .infinity)
        result.replace(with: .nan, where: (x .< 0) .| (x .!= x))
        return result
    }

    /// Hyperbolic tangent for every lane.
    @inlinable @inline(__always)
    public static func tanh(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let bits = unsafeBitCast(x, to: SIMD16<UInt32>.self)
        let sign = bits & 0x8000_0000
        let a = unsafeBitCast(bits & 0x7FFF_FFFF, to: SIMD16<Float>.self)
        // tanh(9.5) rounds to 1 in float; clamping keeps e^(2a) finite.
        let y = 2 * pointwiseMin(a, SIMD16(repeating: 9.5))
        // NOTE: tanh = expm1(2a) / (expm1(2a) + 2) avoids the cancellation of
        // 1 - 2/(e^(2a)+1) for small a; expm1 uses its Taylor series below ln2/2.
        let small = expm1Taylor(y)
        let large = exp(y) - 1
        let em = large.replacing(with: small, where: y .< 0.346_573_6)
        let t = em / (em + 2)
        let result = unsafeBitCast(unsafeBitCast(t, to: SIMD16<UInt32>.self) | sign, to: SIMD16<Float>.self)
        return result.replacing(with: x, where: x .!= x)
    }

    /// Logistic sigmoid 1 / (1 + e^-x) for every lane.
    @inlinable @inline(__always)
    public static func sigmoid(_ x: SIMD16<Float>) -> SIMD16<Float> {
        let a = unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: SIMD16<Float>.self)
        // NOTE: e^-|x| never overflows; for x < 0 the value e/(1+e) keeps its
        // relative accuracy where 1/(1+e^-x) would underflow to 0 too early.
        let e = exp(-a)
        let r = 1 / (1 + e)
        return r.replacing(with: e * r, where: x .< 0)
    }
}
