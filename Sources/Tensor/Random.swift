import Foundation

/// A seeded, splittable pseudo-random generator (xoshiro256**, seeded by SplitMix64).
///
/// A value type: copying it copies the stream, so every consumer owns its
/// generator explicitly (no global RNG). `split()` derives an independent child
/// stream, e.g. one per actor or per network. `state` exports the four words
/// for checkpoints and `init(state:)` restores them.
public struct Xoshiro256: RandomNumberGenerator, Sendable, Equatable {
    private var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64

    /// The four state words, for checkpoints.
    public var state: [UInt64] { [s0, s1, s2, s3] }

    /// A generator whose stream is determined by `seed`.
    public init(seed: UInt64) {
        var sm = seed
        s0 = Xoshiro256.splitMix64(&sm)
        s1 = Xoshiro256.splitMix64(&sm)
        s2 = Xoshiro256.splitMix64(&sm)
        s3 = Xoshiro256.splitMix64(&sm)
    }

    /// Restores a generator from `state` (four words, not all zero).
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    @inline(__always)
    static func splitMix64(_ x: inout UInt64) -> UInt64 {
        x &+= 0x9E37_79B9_7F4A_7C15
        var z = x
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = Xoshiro256.rotl(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = Xoshiro256.rotl(s3, 45)
        return result
    }

    /// An independent child generator; advances this one.
    ///
    /// The child's state is four fresh words from SplitMix64 seeded with this
    /// stream's next output, so parent and child streams are uncorrelated.
    public mutating func split() -> Xoshiro256 {
        var sm = next() ^ 0x6A09_E667_F3BC_C909
        return Xoshiro256(seed: Xoshiro256.splitMix64(&sm))
    }

    /// Uniform in [0, 1) with the full precision of the type (24 bits for Float, 53 for Double).
    public mutating func nextUniform<S: TensorScalar>(_: S.Type = S.self) -> S {
        let bits = S.significandBitCount + 1
        // Both factors and the product are exact in Double for bits <= 53.
        return S(Double(next() >> UInt64(64 - bits)) * Double(sign: .plus, exponent: -bits, significand: 1))
    }

    /// Standard normal (Box-Muller).
    public mutating func nextNormal<S: TensorScalar>(_: S.Type = S.self) -> S {
        let pair = nextNormalPair()
        return S(pair.0)
    }

    /// Two independent standard normals (Box-Muller in Double).
    public mutating func nextNormalPair() -> (Double, Double) {
        let u1 = (Double(next() >> 11) + 1) * 0x1p-53  // (0, 1]: log is finite
        let u2 = Double(next() >> 11) * 0x1p-53
        let r = (-2 * Foundation.log(u1)).squareRoot()
        let theta = 2 * Double.pi * u2
        return (r * Foundation.cos(theta), r * Foundation.sin(theta))
    }
}

extension Kernels {
    /// Fills `t` with U(lower, upper).
    public static func fillUniform<S: TensorScalar>(_ t: Tensor<S>, lower: S, upper: S, rng: inout Xoshiro256) {
        let p = pointer(t)
        for i in 0..<t.count { p[i] = lower + (upper - lower) * rng.nextUniform(S.self) }
    }

    /// Fills `t` with N(mean, std^2).
    public static func fillNormal<S: TensorScalar>(_ t: Tensor<S>, mean: S = 0, std: S = 1, rng: inout Xoshiro256) {
        let p = pointer(t), n = t.count
        var i = 0
        while i < n {
            let (z0, z1) = rng.nextNormalPair()
            p[i] = mean + std * S(z0)
            if i + 1 < n { p[i + 1] = mean + std * S(z1) }
            i += 2
        }
    }

    /// Fills `mask` with inverted-dropout factors: 1/(1-p) with probability 1-p, else 0.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func fillDropoutMask<S: TensorScalar>(_ mask: Tensor<S>, dropProbability p: Double,
                                                        rng: inout Xoshiro256) {
        precondition(p >= 0 && p < 1, "dropout probability \(p) outside [0, 1)")
        let keep = S(1 / (1 - p))
        // Compare 32-bit halves against a threshold: two draws per 64-bit word.
        let threshold = UInt64((p * 4_294_967_296).rounded(.down))
        let dst = pointer(mask), n = mask.count
        var i = 0
        while i < n {
            let word = rng.next()
            dst[i] = (word & 0xFFFF_FFFF) < threshold ? 0 : keep
            if i + 1 < n { dst[i + 1] = (word >> 32) < threshold ? 0 : keep }
            i += 2
        }
    }
}
