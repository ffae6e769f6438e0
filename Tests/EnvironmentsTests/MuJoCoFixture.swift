import Foundation

@testable import Environments

/// One MuJoCo task's gymnasium recording (tools/record_mujoco_fixtures.py).
///
/// States are exact: float64 written as hexadecimal floats. Actions are float32.
struct MuJoCoFixture: Decodable {
    struct Reset: Decodable {
        let seed: UInt64
        /// The drawn start state, as gymnasium passed it to `set_state`.
        let qpos: [String]
        let qvel: [String]
        let observation: [Double]
    }

    /// One step from a recorded state (reset data, `set_state`, then `step`).
    struct Step: Decodable {
        let qpos: [String]
        let qvel: [String]
        /// The time limit's count before the step.
        let elapsedSteps: Int
        let action: [Float]
        let nextQpos: [String]
        let nextQvel: [String]
        let observation: [Double]
        let reward: Double
        let terminated: Bool
        let truncated: Bool
    }

    /// A fixed run of steps from a recorded state (gymnasium keeps stepping after termination).
    struct Horizon: Decodable {
        let qpos: [String]
        let qvel: [String]
        let actions: [[Float]]
        let observations: [[Double]]
        let rewards: [Double]
        let terminated: [Bool]
    }

    struct Episode: Decodable {
        let seed: UInt64
        let policy: String
        let `return`: Double
        let length: Int
    }

    let env: String
    let name: String
    let mujoco: String
    let nq: Int
    let nv: Int
    let nu: Int
    let frameSkip: Int
    let dt: Double
    let timestep: Double
    let resets: [Reset]
    let steps: [Step]
    let horizons: [Horizon]
    let episodes: [Episode]

    /// Loads Tests/EnvironmentsTests/Fixtures/mujoco/<name>.json.
    static func load(_ name: String) throws -> MuJoCoFixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/mujoco/\(name).json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(MuJoCoFixture.self, from: Data(contentsOf: url))
    }
}

/// Parses hexadecimal float64 text back to the exact doubles gymnasium held.
func exactDoubles(_ texts: [String]) throws -> [Double] {
    try texts.map { text in
        guard let value = Double(text) else { throw FixtureError.badNumber(text) }
        return value
    }
}

/// The largest `|a - b| / max(1, |b|)` over two vectors of equal length (infinity if the lengths differ).
func worstRelativeError(_ a: [Double], _ b: [Double]) -> Double {
    guard a.count == b.count else { return .infinity }
    return zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
}
