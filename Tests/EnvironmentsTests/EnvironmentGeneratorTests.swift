import Testing
import Environments

/// PCG64's raw stream and `uniform` match numpy's; the state words round-trip through checkpoints.
@Suite struct EnvironmentGeneratorTests {
    // MARK: - Draws against numpy

    @Test func rawOutputsEqualNumpysRandomRaw() throws {
        for record in try NumpyStreams.load().seeds {
            var generator = EnvironmentGenerator(seed: try #require(UInt64(record.seed)))
            let drawn = (0..<record.uint64.count).map { _ in generator.next() }
            #expect(drawn == (try record.uint64.map(word)), "seed \(record.seed)")
        }
    }

    @Test func uniformDrawsEqualNumpysBitForBit() throws {
        let fixture = try NumpyStreams.load()
        let low = try exactDouble(fixture.uniformBounds[0])
        let high = try exactDouble(fixture.uniformBounds[1])
        for record in fixture.seeds {
            var generator = EnvironmentGenerator(seed: try #require(UInt64(record.seed)))
            let drawn = (0..<record.uniform.count).map { _ in generator.uniform(low: low, high: high).bitPattern }
            #expect(drawn == (try record.uniform.map { try exactDouble($0).bitPattern }), "seed \(record.seed)")
        }
    }

    @Test func nextDoubleIsTheTop53BitsScaled() {
        var a = EnvironmentGenerator(seed: 3)
        var b = a
        for _ in 0..<100 {
            let unit = a.nextDouble()
            #expect(unit == Double(b.next() >> 11) * 0x1p-53)
            #expect(unit >= 0 && unit < 1)
        }
    }

    // MARK: - Checkpoint state

    @Test func stateRoundTripsAndContinuesTheStream() throws {
        var original = EnvironmentGenerator(seed: 11)
        for _ in 0..<5 { _ = original.next() }
        var restored = try #require(EnvironmentGenerator(state: original.state))
        #expect((0..<50).map { _ in restored.next() } == (0..<50).map { _ in original.next() })
    }

    @Test func anEvenIncrementOrWrongLengthIsRefused() {
        // An even last word cannot be a PCG increment: such a state is a pre-PCG64
        // (xoshiro256**) checkpoint or corrupt.
        #expect(EnvironmentGenerator(state: [1, 2, 3, 4]) == nil)
        #expect(EnvironmentGenerator(state: [0, 0, 0, 0]) == nil)
        #expect(EnvironmentGenerator(state: [1, 2, 3]) == nil)
        #expect(EnvironmentGenerator(state: [1, 2, 3, 5]) != nil)
    }
}
