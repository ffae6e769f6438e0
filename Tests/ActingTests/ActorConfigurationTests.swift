import Learning
import Testing
import Transport
import Wire
@testable import Acting

@Suite struct ActorConfigurationTests {
    // MARK: - TLS server names

    @Test(arguments: ["tls+tcp://127.0.0.1:7700", "tls+tcp://[::1]:7700"])
    func aTLSDialToAnIPLiteralNeedsAServerName(url: String) throws {
        var configuration = ActorConfiguration()
        configuration.connect = url
        configuration.tls = .client(caFile: "ca.crt", serverName: nil)
        let error = #expect(throws: ActorError.self) { try configuration.validate() }
        #expect(error?.description.hasPrefix("invalid --tls-server-name") == true)
        #expect(error?.description.contains("IP address") == true)

        configuration.tls = .client(caFile: "ca.crt", serverName: "localhost")
        try configuration.validate()
    }

    @Test func aTLSDialToAHostNameChecksItWithoutAServerName() throws {
        var configuration = ActorConfiguration()
        configuration.connect = "tls+tcp://localhost:7700"
        configuration.tls = .client(caFile: "ca.crt", serverName: nil)
        try configuration.validate()
    }

    @Test func aConnectionRefusesToDialAnIPLiteralUnchecked() throws {
        #expect(throws: ActorError.self) {
            _ = try LearnerConnection(
                url: "tls+tcp://127.0.0.1:1", tls: .client(caFile: nil, serverName: nil),
                hello: Hello(role: .actor, actorID: 0, runID: 1, clientName: "test", clientVersion: "0",
                             authToken: [], envID: "Pendulum-v1",
                             observationSpace: Space(shape: [1], low: -1, high: 1), actionSpace: Space(shape: [1], low: -1, high: 1)),
                limits: WireLimits(), requestTimeout: .milliseconds(100), backoffMinimum: .milliseconds(10),
                backoffMaximum: .milliseconds(20))
        }
    }

    // MARK: - Defaults shared with the config file

    /// The config file's `actor` section lives in Learning, which Acting does not import; its
    /// default outbox must still be the actor's.
    @Test func theConfigFilesOutboxDefaultIsTheActors() {
        #expect(ActorSettings().outboxCapacity == ActorConfiguration.defaultOutboxCapacity)
        #expect(ActorSettings.defaultOutboxCapacity == ActorConfiguration.defaultOutboxCapacity)
    }
}
