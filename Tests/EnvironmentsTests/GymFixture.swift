import Foundation
import Testing
import Environments

/// One gymnasium trajectory recorded by tools/record_gym_fixtures.py.
struct GymEpisode: Decodable {
    let env: String
    let name: String
    let seed: Int
    /// The internal float64 state after reset, as exact hexadecimal floats.
    let initialState: [String]
    let initialObservation: [Float]
    let actions: [[Float]]
    let observations: [[Float]]
    let rewards: [Double]
    let terminated: [Bool]
    let truncated: [Bool]

    /// The initial state parsed back to the exact doubles gymnasium held.
    func initialStateValues() throws -> [Double] {
        try initialState.map { text in
            guard let value = Double(text) else { throw FixtureError.badNumber(text) }
            return value
        }
    }
}

struct GymFixture: Decodable {
    let gymnasium: String
    let numpy: String
    let episodes: [GymEpisode]

    /// Loads a fixture file from Tests/EnvironmentsTests/Fixtures.
    static func load(_ fileName: String) throws -> GymFixture {
        let url = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent()
            .appendingPathComponent("Fixtures")
            .appendingPathComponent(fileName)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(GymFixture.self, from: Data(contentsOf: url))
    }
}

enum FixtureError: Error {
    case badNumber(String)
}

/// Whether two float32 values agree to within a relative 1e-5 (absolute near zero).
func closeFloat(_ a: Float, _ b: Float, tolerance: Float = 1e-5) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}

/// Whether two float64 values agree to within a relative `tolerance` (absolute near zero).
func closeDouble(_ a: Double, _ b: Double, tolerance: Double = 1e-5) -> Bool {
    abs(a - b) <= tolerance * max(1, abs(a), abs(b))
}

/// Replays a recorded episode step by step and checks every output against gymnasium.
///
/// Returns the largest observation and reward deviations seen, for the caller to
/// bound more tightly than the per-step tolerance if it wants.
@discardableResult
func replay(
    _ episode: GymEpisode, in environment: inout some Environment
) -> (observation: Float, reward: Double) {
    var worst: (observation: Float, reward: Double) = (0, 0)
    for (t, action) in episode.actions.enumerated() {
        let result = environment.step(action: action)
        let expected = episode.observations[t]
        let place = "\(episode.name) step \(t)"
        #expect(result.observation.count == expected.count)
        for (got, want) in zip(result.observation, expected) {
            #expect(closeFloat(got, want), "\(place): observation \(result.observation) vs \(expected)")
            worst.observation = max(worst.observation, abs(got - want))
        }
        #expect(closeDouble(result.reward, episode.rewards[t]), "\(place): reward \(result.reward) vs \(episode.rewards[t])")
        worst.reward = max(worst.reward, abs(result.reward - episode.rewards[t]))
        #expect(result.terminated == episode.terminated[t], "\(place): terminated")
        #expect(result.truncated == episode.truncated[t], "\(place): truncated")
    }
    return worst
}
