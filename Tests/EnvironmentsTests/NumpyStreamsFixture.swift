import Foundation

/// numpy's seeded streams and gymnasium's seeded resets, recorded by tools/record_numpy_fixtures.py.
///
/// Floats are exact hexadecimal float64 strings and 64-bit words are 16 hex digits,
/// so every comparison against them can be bit for bit.
struct NumpyStreams: Decodable {
    /// The generator state, raw outputs and draws after seeding with one seed.
    struct Seeded: Decodable {
        /// The seed in decimal (2^63 and 2^64 - 1 are among them, beyond JSON's safe integers).
        let seed: String
        /// PCG64 state high and low, increment high and low.
        let state: [String]
        let uint64: [String]
        /// `uniform(low, high)` with the file's `uniformBounds`.
        let uniform: [String]
        let standardNormal: [String]
    }

    /// A long run of standard normals, long enough to take the ziggurat's rare paths.
    struct LongRun: Decodable {
        let seed: UInt64
        let count: Int
        /// `h = h * 0x100000001B3 + bits(x)` modulo 2^64 over every draw.
        let hash: String
        /// How many draws lie beyond r, i.e. came from the tail sampler.
        let tailDraws: Int
        /// Raw draws from `windowStart` on, around the first tail draw.
        let windowStart: Int
        let window: [String]
    }

    /// numpy's ziggurat tables as 64-bit words, where the recorder could read them.
    struct Tables: Decodable {
        let ki: [String]
        let wi: [String]
        let fi: [String]
    }

    /// An environment's internal state and float32 observation (widened exactly).
    struct Draw: Decodable {
        let state: [String]
        let observation: [String]
    }

    /// A reset with `seed`, then one without a seed, in gymnasium.
    struct Resets: Decodable {
        let seed: UInt64
        let seeded: Draw
        let unseeded: Draw
    }

    let numpy: String
    let gymnasium: String
    let uniformBounds: [String]
    let seeds: [Seeded]
    let longRun: LongRun
    let zigguratTables: Tables?
    let pendulum: [Resets]
    let mountaincar: [Resets]

    /// Loads Tests/EnvironmentsTests/Fixtures/numpy_streams.json.
    static func load() throws -> NumpyStreams {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
            .appendingPathComponent("numpy_streams.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(NumpyStreams.self, from: Data(contentsOf: url))
    }
}

/// The double a hexadecimal float string spells exactly.
func exactDouble(_ text: String) throws -> Double {
    guard let value = Double(text) else { throw FixtureError.badNumber(text) }
    return value
}

/// The 64-bit word 16 hex digits spell.
func word(_ text: String) throws -> UInt64 {
    guard let value = UInt64(text, radix: 16) else { throw FixtureError.badNumber(text) }
    return value
}

/// The fixture's float32 observation, narrowed exactly from its float64 widening.
func exactObservation(_ texts: [String]) throws -> [Float] {
    try texts.map { Float(try exactDouble($0)) }
}
