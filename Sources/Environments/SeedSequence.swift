/// numpy's `SeedSequence` for an integer seed: the hash-mixed entropy pool and `generate_state`.
///
/// gymnasium seeds every environment through it (`np.random.SeedSequence(seed)`
/// feeding `PCG64`), so reproducing it word for word is what makes a seeded reset
/// land on the state gymnasium draws. Only what an integer seed needs is here: no
/// spawn keys and the default pool of four 32-bit words. All arithmetic is on
/// `UInt32` and wraps, as numpy's does.
struct SeedSequence: Sendable {
    /// The mixed entropy pool (numpy's `pool`).
    private(set) var pool: [UInt32]

    private static let poolSize = 4
    private static let initA: UInt32 = 0x43B0_D7E5
    private static let multA: UInt32 = 0x931E_8875
    private static let initB: UInt32 = 0x8B51_F9DD
    private static let multB: UInt32 = 0x58F3_8DED
    private static let mixMultL: UInt32 = 0xCA01_F9DD
    private static let mixMultR: UInt32 = 0x4973_F715
    private static let xorShift: UInt32 = 16

    /// The pool for `seed`, which numpy first splits into 32-bit words, least significant first.
    init(seed: UInt64) {
        self.init(entropy: Self.words(of: seed))
    }

    /// The pool for entropy words, as numpy's `mix_entropy` fills it.
    init(entropy: [UInt32]) {
        var hashConstant = Self.initA
        var pool = (0..<Self.poolSize).map { i in
            Self.hashMix(i < entropy.count ? entropy[i] : 0, &hashConstant)
        }
        // Every word is mixed into every other, so late words affect early ones.
        for source in pool.indices {
            for destination in pool.indices where source != destination {
                pool[destination] = Self.mix(pool[destination], Self.hashMix(pool[source], &hashConstant))
            }
        }
        // Entropy beyond the pool's size is mixed into each pool word in turn.
        for word in entropy.dropFirst(Self.poolSize) {
            for destination in pool.indices {
                pool[destination] = Self.mix(pool[destination], Self.hashMix(word, &hashConstant))
            }
        }
        self.pool = pool
    }

    /// `count` 32-bit words drawn from the pool (numpy's `generate_state(count, np.uint32)`).
    func generateState(count: Int) -> [UInt32] {
        var hashConstant = Self.initB
        return (0..<count).map { i in
            var value = pool[i % pool.count] ^ hashConstant
            hashConstant &*= Self.multB
            value &*= hashConstant
            return value ^ (value >> Self.xorShift)
        }
    }

    /// `count` 64-bit words, each two 32-bit words read little-endian (`generate_state(count, np.uint64)`).
    func generateState64(count: Int) -> [UInt64] {
        let words = generateState(count: 2 * count)
        return (0..<count).map { UInt64(words[2 * $0]) | UInt64(words[2 * $0 + 1]) << 32 }
    }

    /// An integer as numpy's `_int_to_uint32_array` splits it: 0 is one zero word.
    static func words(of seed: UInt64) -> [UInt32] {
        let low = UInt32(truncatingIfNeeded: seed)
        let high = UInt32(truncatingIfNeeded: seed >> 32)
        return high == 0 ? [low] : [low, high]
    }

    private static func hashMix(_ value: UInt32, _ hashConstant: inout UInt32) -> UInt32 {
        var value = value ^ hashConstant
        hashConstant &*= multA
        value &*= hashConstant
        return value ^ (value >> xorShift)
    }

    private static func mix(_ x: UInt32, _ y: UInt32) -> UInt32 {
        let result = mixMultL &* x &- mixMultR &* y
        return result ^ (result >> xorShift)
    }
}
