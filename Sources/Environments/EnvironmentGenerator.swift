#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The random generator an environment draws its start states from (xoshiro256**).
///
/// Each environment owns one, the counterpart of gymnasium's `np_random`: seeded
/// resets are reproducible across runs and platforms because the stream and the
/// conversions below are defined here rather than by the standard library. It does
/// not reproduce numpy's PCG64 streams; the gymnasium fixtures compare dynamics from
/// a recorded state instead (Tests/EnvironmentsTests/Fixtures).
public struct EnvironmentGenerator: RandomNumberGenerator, Sendable {
    private var s0: UInt64
    private var s1: UInt64
    private var s2: UInt64
    private var s3: UInt64

    /// A generator whose whole stream is a function of `seed`.
    ///
    /// SplitMix64 spreads the seed over the 256-bit state, as the xoshiro authors
    /// recommend, so nearby seeds give unrelated streams.
    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    /// The four state words, for checkpoints (`init(state:)` restores them).
    public var state: [UInt64] { [s0, s1, s2, s3] }

    /// Restores a generator from `state` (four words, not all zero), or nil.
    public init?(state: [UInt64]) {
        guard state.count == 4, state.contains(where: { $0 != 0 }) else { return nil }
        (s0, s1, s2, s3) = (state[0], state[1], state[2], state[3])
    }

    /// A generator seeded from the system's entropy source, for unseeded environments.
    public static func fromEntropy() -> EnvironmentGenerator {
        var system = SystemRandomNumberGenerator()
        return EnvironmentGenerator(seed: system.next())
    }

    public mutating func next() -> UInt64 {
        let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = s3 << 45 | s3 >> 19
        return result
    }

    /// A double uniform on [low, high), from the top 53 bits of one draw.
    public mutating func uniform(low: Double, high: Double) -> Double {
        let unit = Double(next() >> 11) * 0x1p-53
        return low + (high - low) * unit
    }

    /// A standard normal double (Box-Muller, one of the pair).
    ///
    /// Two draws per value keeps the stream position independent of earlier calls,
    /// which makes seeded resets easy to reason about.
    public mutating func normal() -> Double {
        // 1 - u lies in (0, 1], so the log is finite.
        let u1 = 1 - Double(next() >> 11) * 0x1p-53
        let u2 = Double(next() >> 11) * 0x1p-53
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
