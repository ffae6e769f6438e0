import Telemetry
import Wire

/// The checks every HELLO passes, at the learner and at a meow-actor gateway alike (PROTOCOL.md
/// 5.1 to 5.3): the protocol version, the auth token, the spaces of the run, and the
/// capabilities a welcomed simulator is granted.
///
/// A plain value: the learner's ledger and the gateway each hold one and add their own rules
/// (the learner's presets and actor slots, the gateway's upstream WELCOME) around it.
public struct HelloAdmission: Sendable, Equatable {
    /// Who answers, as refusal texts name it: "learner" or "gateway".
    public let server: String
    /// The token every peer must present; nil: none is required.
    public let token: [UInt8]?

    public init(server: String, token: [UInt8]?) {
        self.server = server
        self.token = token
    }

    /// nil when `hello` offers this protocol version and the right token; otherwise the refusal.
    ///
    /// The token is compared in constant time, so a refusal says nothing about how much of it matched.
    public func check(_ hello: Hello) -> Refused? {
        guard hello.minVersion <= WireV1.version && WireV1.version <= hello.maxVersion else {
            return Refused(code: .unsupportedVersion, retryAfterMs: 0,
                           text: "the \(server) speaks protocol \(WireV1.version); the peer offered "
                               + "\(hello.minVersion) to \(hello.maxVersion)")
        }
        if let token, !ConstantTime.equal(token, hello.authToken) {
            return Refused(code: .authFailed, retryAfterMs: 0,
                           text: "wrong or missing auth token; give the \(server)'s --token")
        }
        return nil
    }

    /// nil when `hello`'s spaces agree with the run's `spaces`; otherwise the SPACE_MISMATCH refusal.
    public func check(_ hello: Hello, against spaces: AgreedSpaces) -> Refused? {
        spaces.mismatch(observation: hello.observationSpace, action: hello.actionSpace).map {
            Refused(code: .spaceMismatch, retryAfterMs: 0, text: $0)
        }
    }

    /// The capabilities a simulator welcomed as `entry` is granted: exactly what it asked for
    /// and this server serves (SimulatorSessions decides both).
    public static func capabilities(of entry: SimulatorSessions.Entry) -> Capabilities {
        var granted: Capabilities = []
        if entry.valuesGranted { granted.insert(.valueEstimates) }
        if entry.evaluationGranted { granted.insert(.evaluation) }
        return granted
    }

    /// The REFUSED FULL a server at its simulator limit answers.
    public func full(maxSessions: Int) -> Refused {
        Refused(code: .full, retryAfterMs: 1000, text: "the \(server) serves its maximum of \(maxSessions) simulators")
    }
}
