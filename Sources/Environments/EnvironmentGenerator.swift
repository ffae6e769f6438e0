/// The random generator an environment draws its start states from: numpy's PCG64.
///
/// Each environment owns one, the counterpart of gymnasium's `np_random`, which is
/// `np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed)))`. The seeding,
/// the 64-bit stream and the conversions (`uniform`, `standardNormal`) reproduce
/// numpy's bit for bit, so `reset(seed:)` lands on the very state gymnasium's
/// `reset(seed=)` draws (Tests/EnvironmentsTests/Fixtures/numpy_streams.json pins it).
///
/// PCG64 is a 128-bit linear congruential generator whose output is the XSL-RR
/// permutation of the new state: the two halves xor-ed, rotated right by the top
/// six bits.
public struct EnvironmentGenerator: RandomNumberGenerator, Sendable {
    private var stateHigh: UInt64
    private var stateLow: UInt64
    private var incrementHigh: UInt64
    private var incrementLow: UInt64

    /// numpy's default 128-bit PCG multiplier.
    private static let multiplierHigh: UInt64 = 0x2360_ED05_1FC6_5DA4
    private static let multiplierLow: UInt64 = 0x4385_DF64_9FCC_F645

    /// The generator gymnasium builds for `seed`: `PCG64(SeedSequence(seed))`.
    ///
    /// The seed sequence yields four 64-bit words; the first two are the initial
    /// state and the last two the stream selector, most significant word first.
    public init(seed: UInt64) {
        let words = SeedSequence(seed: seed).generateState64(count: 4)
        self.init(initialState: (words[0], words[1]), sequence: (words[2], words[3]))
    }

    /// PCG's `srandom`: the increment is `2 * sequence + 1`, and the state is
    /// stepped once before and once after adding the initial state.
    private init(initialState: (high: UInt64, low: UInt64), sequence: (high: UInt64, low: UInt64)) {
        (stateHigh, stateLow) = (0, 0)
        incrementHigh = sequence.high << 1 | sequence.low >> 63
        incrementLow = sequence.low << 1 | 1
        step()
        let (low, carry) = stateLow.addingReportingOverflow(initialState.low)
        stateLow = low
        stateHigh = stateHigh &+ initialState.high &+ (carry ? 1 : 0)
        step()
    }

    /// The four state words for checkpoints: state high, state low, increment high, increment low.
    ///
    /// `init(state:)` restores them. They are numpy's `bit_generator.state["state"]`
    /// and `["inc"]` split into 64-bit halves.
    public var state: [UInt64] { [stateHigh, stateLow, incrementHigh, incrementLow] }

    /// Restores a generator from `state` (as `state` returns it), or nil.
    ///
    /// A PCG increment is always odd. Checkpoints written before the environments
    /// used PCG64 hold four xoshiro256** words instead, which restore a different
    /// stream when the last word happens to be odd and are refused when it is even.
    public init?(state: [UInt64]) {
        guard state.count == 4, state[3] & 1 == 1 else { return nil }
        (stateHigh, stateLow, incrementHigh, incrementLow) = (state[0], state[1], state[2], state[3])
    }

    /// A generator seeded from the system's entropy source, for unseeded environments.
    public static func fromEntropy() -> EnvironmentGenerator {
        var system = SystemRandomNumberGenerator()
        return EnvironmentGenerator(seed: system.next())
    }

    /// numpy's `next_uint64`: advance the state, then permute it.
    public mutating func next() -> UInt64 {
        step()
        let rotation = stateHigh >> 58
        let folded = stateHigh ^ stateLow
        return folded >> rotation | folded << ((64 &- rotation) & 63)
    }

    /// numpy's `next_double`: the top 53 bits of one draw, scaled to [0, 1).
    public mutating func nextDouble() -> Double {
        Double(next() >> 11) * 0x1p-53
    }

    /// A double uniform on [low, high), computed as numpy's `Generator.uniform` does.
    public mutating func uniform(low: Double, high: Double) -> Double {
        low + (high - low) * nextDouble()
    }

    /// One LCG step, `state = state * multiplier + increment` modulo 2^128.
    private mutating func step() {
        let product = stateLow.multipliedFullWidth(by: Self.multiplierLow)
        let high = product.high &+ stateLow &* Self.multiplierHigh &+ stateHigh &* Self.multiplierLow
        let (low, carry) = product.low.addingReportingOverflow(incrementLow)
        stateLow = low
        stateHigh = high &+ incrementHigh &+ (carry ? 1 : 0)
    }
}
