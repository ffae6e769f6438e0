import Learning
import Testing
import Wire

/// SPACE_MISMATCH (PROTOCOL.md 5.1): env id first, then shapes, then bounds; the text names the field.
@Suite struct SpaceMatchTests {
    let now = ContinuousClock.now

    private func refusal(_ hello: Hello) throws -> String? {
        var ledger = try makeLedger()
        guard case .refused(let refused) = ledger.hello(hello, now: now) else { return nil }
        #expect(refused.code == .spaceMismatch)
        return refused.text
    }

    private func pendulum(envID: String, observation: Space = pendulumObservation) -> Hello {
        Hello(role: .actor, actorID: 1, runID: 10, clientName: "test", clientVersion: "0", authToken: [],
              envID: envID, observationSpace: observation, actionSpace: pendulumAction)
    }

    @Test func envIDsMatchByPresetNameOrIDWithoutItsVersion() throws {
        for id in ["", "Pendulum-v1", "pendulum", "PENDULUM", "Pendulum-v2"] {
            #expect(try refusal(pendulum(envID: id)) == nil, "\(id)")
        }
        let text = try refusal(pendulum(envID: "Hopper-v4"))
        #expect(text?.contains("hello.env_id") == true && text?.contains("Pendulum-v1") == true)
        #expect(try refusal(pendulum(envID: "InvertedPendulum-v4")) != nil)
    }

    @Test func boundsAreComparedAndTheFirstDifferenceIsNamed() throws {
        let wider = Space(shape: [3], low: [-1, -1, -9], high: [1, 1, 8])
        #expect(try refusal(pendulum(envID: "Pendulum-v1", observation: wider))
            == "hello.observation_space.low[2] is -9.0, the learner's is -8.0")
        let shape = try refusal(pendulum(envID: "Pendulum-v1", observation: Space(shape: [1, 3], low: -1, high: 1)))
        #expect(shape?.hasPrefix("hello.observation_space has shape [1, 3]") == true)
    }

    @Test func theFamilyDropsOnlyAVersionSuffix() throws {
        let spec = try EnvironmentSpec.resolve("mountaincar")
        #expect(spec.envIDMatches("MountainCarContinuous-v0", learnerEnvID: spec.envID))
        #expect(spec.envIDMatches("mountaincar", learnerEnvID: spec.envID))
        #expect(!spec.envIDMatches("Pendulum-v1", learnerEnvID: spec.envID))
        // A learner without an env id yet takes the first peer's.
        #expect(spec.envIDMatches("Anything-v9", learnerEnvID: ""))
    }
}
