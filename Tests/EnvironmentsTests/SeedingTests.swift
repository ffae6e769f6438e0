import Testing

@testable import Environments

/// Seeding follows numpy: `SeedSequence(seed)` then `PCG64`'s state and increment.
@Suite struct SeedingTests {
    // MARK: - Integer seeds as entropy words

    @Test func seedsSplitIntoLittleEndianWordsAsNumpyDoes() {
        #expect(SeedSequence.words(of: 0) == [0])
        #expect(SeedSequence.words(of: 7) == [7])
        #expect(SeedSequence.words(of: (1 << 32) + 5) == [5, 1])
        #expect(SeedSequence.words(of: 1 << 63) == [0, 0x8000_0000])
    }

    // MARK: - PCG64 state after seeding

    @Test func seededStateEqualsNumpysForEverySeed() throws {
        let fixture = try NumpyStreams.load()
        #expect(fixture.seeds.count >= 12)
        for record in fixture.seeds {
            let seed = try #require(UInt64(record.seed))
            let expected = try record.state.map(word)
            #expect(EnvironmentGenerator(seed: seed).state == expected, "seed \(seed)")
        }
    }

    @Test func theIncrementIsOdd() {
        for seed: UInt64 in [0, 1, 42, .max] {
            #expect(EnvironmentGenerator(seed: seed).state[3] & 1 == 1)
        }
    }
}
