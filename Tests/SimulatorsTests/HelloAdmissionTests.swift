import Simulators
import Testing
import Wire

/// `HelloAdmission`: the version, token and space checks the learner and a gateway share.
struct HelloAdmissionTests {
    func hello(token: [UInt8] = [], minVersion: ProtocolVersion = WireV1.version,
               maxVersion: ProtocolVersion = WireV1.version,
               observation: Space = pendulumObservation, capabilities: Capabilities = []) -> Hello {
        var hello = Hello(role: .simulator, capabilities: capabilities, actorID: 0, runID: 1, clientName: "test",
                          clientVersion: "0", authToken: token, envID: "Pendulum-v1", observationSpace: observation,
                          actionSpace: pendulumAction)
        hello.minVersion = minVersion
        hello.maxVersion = maxVersion
        return hello
    }

    // MARK: - Version and token

    @Test func aMatchingHelloPasses() {
        #expect(HelloAdmission(server: "gateway", token: [1, 2]).check(hello(token: [1, 2])) == nil)
        #expect(HelloAdmission(server: "learner", token: nil).check(hello(token: [9])) == nil)
    }

    @Test func anotherProtocolVersionIsRefusedNamingTheServer() {
        let refused = HelloAdmission(server: "gateway", token: nil)
            .check(hello(minVersion: ProtocolVersion(major: WireV1.major + 1, minor: 0),
                         maxVersion: ProtocolVersion(major: WireV1.major + 1, minor: 1)))
        #expect(refused?.code == .unsupportedVersion && refused?.retryAfterMs == 0)
        #expect(refused?.text.hasPrefix("the gateway speaks protocol") == true)
    }

    @Test func aWrongOrMissingTokenIsRefused() {
        let admission = HelloAdmission(server: "learner", token: [1, 2, 3])
        let wrong = admission.check(hello(token: [1, 2, 4]))
        #expect(wrong?.code == .authFailed && wrong?.text.contains("the learner's --token") == true)
        #expect(admission.check(hello(token: []))?.code == .authFailed)
        #expect(admission.check(hello(token: [1, 2, 3])) == nil)
    }

    // MARK: - Spaces and capabilities

    @Test func spacesMustMatchTheRuns() {
        let admission = HelloAdmission(server: "gateway", token: nil)
        let spaces = AgreedSpaces(observation: pendulumObservation, action: pendulumAction)
        #expect(admission.check(hello(), against: spaces) == nil)
        let other = hello(observation: Space(shape: [4], low: -1, high: 1))
        #expect(admission.check(other, against: spaces)?.code == .spaceMismatch)
    }

    @Test func simulatorsAreGrantedWhatTheirSessionGranted() throws {
        var sessions = SimulatorSessions(maxSessions: 2)
        let welcomedPlain = sessions.welcome(hello(), pipe: 1, now: .now)
        let plain = try #require(welcomedPlain)
        #expect(HelloAdmission.capabilities(of: plain).isEmpty)
        var asking = hello(capabilities: [.valueEstimates, .evaluation])
        asking.runID = 2
        let welcomedEvaluating = sessions.welcome(asking, pipe: 2, now: .now, evaluates: true)
        let evaluating = try #require(welcomedEvaluating)
        #expect(HelloAdmission.capabilities(of: evaluating) == [.valueEstimates, .evaluation])
        #expect(HelloAdmission(server: "gateway", token: nil).full(maxSessions: 2).code == .full)
    }
}
