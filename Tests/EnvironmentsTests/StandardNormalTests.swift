import Testing

@testable import Environments

/// `standardNormal()` is numpy's ziggurat draw for draw, rare paths included.
@Suite struct StandardNormalTests {
    // MARK: - Draws against numpy

    @Test func firstDrawsEqualNumpysForEverySeed() throws {
        for record in try NumpyStreams.load().seeds {
            var generator = EnvironmentGenerator(seed: try #require(UInt64(record.seed)))
            let drawn = (0..<record.standardNormal.count).map { _ in generator.standardNormal().bitPattern }
            let expected = try record.standardNormal.map { try exactDouble($0).bitPattern }
            #expect(drawn == expected, "seed \(record.seed)")
        }
    }

    /// A million draws take the wedge test thousands of times and the tail a few hundred;
    /// a path that consumed one draw more or less than numpy's would shift every later value.
    @Test func aMillionDrawsEqualNumpysIncludingTheTailAndWedges() throws {
        let run = try NumpyStreams.load().longRun
        var generator = EnvironmentGenerator(seed: run.seed)
        var hash: UInt64 = 0
        var tailDraws = 0
        var window: [UInt64] = []
        let windowRange = run.windowStart..<(run.windowStart + run.window.count)
        for i in 0..<run.count {
            let x = generator.standardNormal()
            hash = hash &* 0x100_0000_01B3 &+ x.bitPattern
            if abs(x) > NormalZiggurat.r { tailDraws += 1 }
            if windowRange.contains(i) { window.append(x.bitPattern) }
        }
        #expect(tailDraws == run.tailDraws)
        #expect(tailDraws > 100, "the run must reach the tail sampler")
        #expect(window == (try run.window.map { try exactDouble($0).bitPattern }))
        #expect(hash == (try word(run.hash)))
    }

    // MARK: - Tables against numpy's

    /// Built at start-up from r and v, every entry equals numpy's compiled-in tables.
    @Test func tablesEqualNumpysBitForBit() throws {
        let tables = try #require(
            try NumpyStreams.load().zigguratTables,
            "the recorder could not read numpy's tables on this platform")
        let ziggurat = NormalZiggurat.shared
        #expect(ziggurat.width.map(\.bitPattern) == (try tables.wi.map(word)))
        #expect(ziggurat.density.map(\.bitPattern) == (try tables.fi.map(word)))
        #expect(ziggurat.coreLimit == (try tables.ki.map(word)))
    }

    // MARK: - Distribution

    @Test func drawsHaveUnitVariance() {
        var generator = EnvironmentGenerator(seed: 2024)
        let n = 20_000
        let draws = (0..<n).map { _ in generator.standardNormal() }
        let mean = draws.reduce(0, +) / Double(n)
        let variance = draws.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(n)
        // Standard errors: 0.007 for the mean, 0.01 for the variance.
        #expect(abs(mean) < 0.03)
        #expect(abs(variance - 1) < 0.05)
    }
}
