import Foundation
import Simulators
import Testing
import Wire

/// ACTION_REQUEST frames written by the Python client (protocol/python/meow_client) build the same
/// transitions in `SimulatorEpisodes` as in the client's reference fake learner
/// (protocol/python/tests/fake_learner.py).
///
/// The frames and the fake learner's transitions were recorded once by driving the real client
/// over loopback against `FakeLearner` (Box(-inf, inf, (2,)) observations, Box(-1, 1, (2,))
/// actions), with this script, run from the repository root:
///
/// ```python
/// c = meow_client.connect(L.url, observation_space=OBS, action_space=ACT)
/// a = c.start_episode(o(0.5, 1)); b = c.start_episode(o(-1, 0.25))
/// c.get_actions([a, b])
/// c.log_steps([a, b], [1.5, -2], [False, False], [False, False], [o(1, 1), o(2, -1)])
/// c.get_actions([a, b])
/// c.log_steps([a, b], [0.25, 3], [True, False], [False, False], [o(4, 4), o(0, 0.5)])
/// c.end_episode(a)                      # terminated
/// d = c.start_episode(o(0.75, -0.5))
/// c.get_actions([b, d])                 # END a + START d ride along
/// c.log_steps([b, d], [1, 2], [False, False], [False, True], [o(1, 2), o(3, 3)])
/// c.end_episode(b)                      # not done: the client sends it as truncated
/// c.end_episode(d)                      # truncated
/// e = c.start_episode(o(0.125, 0.125)); c.get_action(e)
/// c.end_episode(e)                      # action outstanding: flags 0
/// c.flush(); c.close()
/// # then: wire.encode(f).hex() of every ACTION_REQUEST in L.frames, and L.transitions
/// ```
struct ClientFramesTests {
    private static let frames = [
        "4d454f570100300000000000020000003c00000091ae7c240000000002000000020000000200000001000000a2c2fa8b"
            + "02000000a2c2fa8b0000003f0000803f000080bf0000803e000000000000000000000000",
        "4d454f570100300000000000030000003c000000c236f5010000000002000000020000000200000001000000a2c2fa8b"
            + "02000000a2c2fa8b0000803f0000803f00000040000080bf0000c03f000000c001010000",
        "4d454f570100300000000000040000005200000087c5f6b40000000003000000020000000200000001000000a2c2fa8b"
            + "02000000a2c2fa8b03000000a2c2fa8b0000804000008040000000000000003f0000403f000000bf0000803e00004040"
            + "00000000020100010000",
        "4d454f570100300000000000060000005200000076b1a58c0000000003000000020000000200000002000000a2c2fa8b"
            + "03000000a2c2fa8b04000000a2c2fa8b0000803f0000004000004040000040400000003e0000003e0000803f00000040"
            + "00000000020200020200",
        "4d454f5701003000000000000800000026000000ccbf50bb0000000001000000020000000200000004000000a2c2fa8b"
            + "0000003e0000003e000000000200",
    ]

    /// The fake learner's transitions: episode, s (2), a (2), r, s' (2), done flags.
    private static let expected: [(UInt64, [Double])] = [
        (10086588316490137601, [0.5, 1.0, 0.6351489424705505, 0.5351489782333374, 1.5, 1.0, 1.0, 0]),
        (10086588316490137602, [-1.0, 0.25, -0.35835739970207214, -0.45835739374160767, -2.0, 2.0, -1.0, 0]),
        (10086588316490137601, [1.0, 1.0, 0.7615941762924194, 0.6615941524505615, 0.25, 4.0, 4.0, 1]),
        (10086588316490137602, [2.0, -1.0, 0.46211716532707214, 0.3621171712875366, 3.0, 0.0, 0.5, 0]),
        (10086588316490137602, [0.0, 0.5, 0.24491865932941437, 0.14491866528987885, 1.0, 1.0, 2.0, 2]),
        (10086588316490137603, [0.75, -0.5, 0.12435299903154373, 0.02435300126671791, 2.0, 3.0, 3.0, 2]),
    ]

    /// fake_learner.default_policy for two action elements, stochastic mode.
    private static func referencePolicy(_ observation: ArraySlice<Float>) -> [Float] {
        let base = tanh(0.5 * Double(observation.reduce(Float(0), +)))
        return [Float(base), Float(base - 0.1)]
    }

    @Test func clientFramesBuildTheReferenceLearnersTransitions() throws {
        var episodes = SimulatorEpisodes(observationDimension: 2, actionDimension: 2)
        let now = ContinuousClock.now
        var built: [Transition] = []
        for hex in Self.frames {
            let frame = try Frame.decode(hexBytes(hex))
            guard case .actionRequest(let request) = frame.message else {
                Issue.record("not an ACTION_REQUEST: \(frame.message.type)")
                continue
            }
            let prepared = try episodes.handle(request: request, session: 1, requestID: frame.requestID, now: now)
            built += prepared.transitions.rows
            let actions = (0..<prepared.actingCount).flatMap { k in
                Self.referencePolicy(prepared.observations[k * 2 ..< (k + 1) * 2])
            }
            let reply = episodes.complete(prepared, actions: actions, values: nil, policyVersion: 1)
            #expect(reply.count == request.count)
        }
        #expect(built.count == Self.expected.count)
        for (transition, (episode, v)) in zip(built, Self.expected) {
            #expect(transition.observation == [Float(v[0]), Float(v[1])], "episode \(episode)")
            #expect(zip(transition.action, [v[2], v[3]]).allSatisfy { abs(Double($0) - $1) < 1e-6 }, "episode \(episode)")
            #expect(transition.reward == Float(v[4]))
            #expect(transition.nextObservation == [Float(v[5]), Float(v[6])])
            // The fake keeps the raw flags; replay keeps "terminated" only (truncation bootstraps).
            #expect(transition.terminated == (Int(v[7]) & 1 == 1 ? 1 : 0))
        }
        #expect(episodes.episodeCount == 0, "every episode the client ended is forgotten")
        #expect(episodes.counters.episodesEnded == 4)
        #expect(episodes.counters.stepsWithoutAction == 0)
    }
}

private func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}
