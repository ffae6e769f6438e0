// Session control: HELLO, WELCOME, REFUSED, GOODBYE, ACK, ERROR, HEARTBEAT, HEARTBEAT_REPLY
// (PROTOCOL.md 5.1 to 5.7).

// MARK: - HELLO

/// The first request on every connection: who the peer is and what it speaks.
public struct Hello: PayloadCodable {
    static var messageType: MessageType { .hello }

    public var role: Role
    /// Lowest protocol version the peer speaks.
    public var minVersion: ProtocolVersion
    /// Highest protocol version the peer speaks.
    public var maxVersion: ProtocolVersion
    public var capabilities: Capabilities
    /// The peer's stable id (0 for peers that have none).
    public var actorID: UInt32
    /// Random per process start; with `actorID` it names this process's batches.
    public var runID: UInt64
    public var clientName: String
    public var clientVersion: String
    /// Shared secret, or empty.
    public var authToken: [UInt8]
    /// Environment id, e.g. `Hopper-v4`; may be empty.
    public var envID: String
    public var observationSpace: Space
    /// The simulator's real action range; actions on the wire are normalised to [-1, 1].
    public var actionSpace: Space

    public init(role: Role, minVersion: ProtocolVersion = WireV1.version, maxVersion: ProtocolVersion = WireV1.version,
                capabilities: Capabilities = [], actorID: UInt32, runID: UInt64, clientName: String,
                clientVersion: String, authToken: [UInt8] = [], envID: String,
                observationSpace: Space, actionSpace: Space) {
        self.role = role
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.capabilities = capabilities
        self.actorID = actorID
        self.runID = runID
        self.clientName = clientName
        self.clientVersion = clientVersion
        self.authToken = authToken
        self.envID = envID
        self.observationSpace = observationSpace
        self.actionSpace = actionSpace
    }

    func validate(limits: WireLimits) throws(WireError) {
        if minVersion > maxVersion { throw .invalidValue(field: "hello.version_range", index: 0) }
        try Check.string(clientName, limits: limits, field: "hello.client_name")
        try Check.string(clientVersion, limits: limits, field: "hello.client_version")
        try Check.count(authToken.count, limit: min(limits.maxStringBytes, Int(UInt16.max)), field: "hello.auth_token")
        try Check.string(envID, limits: limits, field: "hello.env_id")
        try observationSpace.validate(field: "hello.observation_space",
                                      maxElements: limits.maxObservationElements, limits: limits)
        try actionSpace.validate(field: "hello.action_space", maxElements: limits.maxActionElements, limits: limits)
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt8(role.rawValue)
        writer.writeUInt8(minVersion.major)
        writer.writeUInt8(minVersion.minor)
        writer.writeUInt8(maxVersion.major)
        writer.writeUInt8(maxVersion.minor)
        writer.writeUInt32LE(capabilities.rawValue)
        writer.writeUInt32LE(actorID)
        writer.writeUInt64LE(runID)
        writer.writeString(clientName)
        writer.writeString(clientVersion)
        writer.writeByteString(authToken)
        writer.writeString(envID)
        observationSpace.write(to: &writer)
        actionSpace.write(to: &writer)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> Hello {
        let role = try reader.readEnum(Role.self, "hello.role")
        let minVersion = ProtocolVersion(major: try reader.readUInt8(), minor: try reader.readUInt8())
        let maxVersion = ProtocolVersion(major: try reader.readUInt8(), minor: try reader.readUInt8())
        if minVersion > maxVersion { throw .invalidValue(field: "hello.version_range", index: 0) }
        return Hello(
            role: role, minVersion: minVersion, maxVersion: maxVersion,
            capabilities: Capabilities(rawValue: try reader.readUInt32LE()),
            actorID: try reader.readUInt32LE(),
            runID: try reader.readUInt64LE(),
            clientName: try reader.readString("hello.client_name", limits: limits),
            clientVersion: try reader.readString("hello.client_version", limits: limits),
            authToken: try reader.readByteString("hello.auth_token", limits: limits),
            envID: try reader.readString("hello.env_id", limits: limits),
            observationSpace: try Space.read(from: &reader, field: "hello.observation_space",
                                             maxElements: limits.maxObservationElements, limits: limits),
            actionSpace: try Space.read(from: &reader, field: "hello.action_space",
                                        maxElements: limits.maxActionElements, limits: limits))
    }
}

// MARK: - WELCOME

/// The learner accepts a peer and hands it the configuration it needs.
public struct Welcome: PayloadCodable {
    static var messageType: MessageType { .welcome }

    /// The chosen protocol version: the highest both sides speak.
    public var version: ProtocolVersion
    /// Granted capabilities.
    public var capabilities: Capabilities
    /// Random per learner start; a change means the learner restarted.
    public var learnerRunID: UInt64
    public var policyVersion: UInt64
    /// Transitions collected before the first update.
    public var warmupTransitions: UInt32
    /// Transitions per TRANSITIONS message the learner prefers.
    public var batchHint: UInt32
    /// Most transitions per TRANSITIONS message it accepts.
    public var maxBatch: UInt32
    /// Longest an actor should hold a partial batch.
    public var uploadIntervalMs: UInt32
    /// WEIGHTS chunk size.
    public var weightsChunkBytes: UInt32
    /// Environment steps between weight polls.
    public var weightsRefreshSteps: UInt32
    public var heartbeatIntervalMs: UInt32
    /// Largest frame the learner receives.
    public var maxFrameBytes: UInt32
    public var envID: String
    /// Hyperparameter preset name.
    public var preset: String
    /// Pull weights by lag (the `weights_lag` extension record); nil: by `weightsRefreshSteps` alone.
    public var weightsLag: WeightsLagRule?

    public init(version: ProtocolVersion = WireV1.version, capabilities: Capabilities = [], learnerRunID: UInt64,
                policyVersion: UInt64, warmupTransitions: UInt32, batchHint: UInt32, maxBatch: UInt32,
                uploadIntervalMs: UInt32, weightsChunkBytes: UInt32, weightsRefreshSteps: UInt32,
                heartbeatIntervalMs: UInt32, maxFrameBytes: UInt32, envID: String, preset: String,
                weightsLag: WeightsLagRule? = nil) {
        self.weightsLag = weightsLag
        self.version = version
        self.capabilities = capabilities
        self.learnerRunID = learnerRunID
        self.policyVersion = policyVersion
        self.warmupTransitions = warmupTransitions
        self.batchHint = batchHint
        self.maxBatch = maxBatch
        self.uploadIntervalMs = uploadIntervalMs
        self.weightsChunkBytes = weightsChunkBytes
        self.weightsRefreshSteps = weightsRefreshSteps
        self.heartbeatIntervalMs = heartbeatIntervalMs
        self.maxFrameBytes = maxFrameBytes
        self.envID = envID
        self.preset = preset
    }

    func validate(limits: WireLimits) throws(WireError) {
        try Check.string(envID, limits: limits, field: "welcome.env_id")
        try Check.string(preset, limits: limits, field: "welcome.preset")
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt8(version.major)
        writer.writeUInt8(version.minor)
        writer.writeUInt32LE(capabilities.rawValue)
        writer.writeUInt64LE(learnerRunID)
        writer.writeUInt64LE(policyVersion)
        for value in [warmupTransitions, batchHint, maxBatch, uploadIntervalMs, weightsChunkBytes,
                      weightsRefreshSteps, heartbeatIntervalMs, maxFrameBytes] {
            writer.writeUInt32LE(value)
        }
        writer.writeString(envID)
        writer.writeString(preset)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> Welcome {
        Welcome(
            version: ProtocolVersion(major: try reader.readUInt8(), minor: try reader.readUInt8()),
            capabilities: Capabilities(rawValue: try reader.readUInt32LE()),
            learnerRunID: try reader.readUInt64LE(),
            policyVersion: try reader.readUInt64LE(),
            warmupTransitions: try reader.readUInt32LE(),
            batchHint: try reader.readUInt32LE(),
            maxBatch: try reader.readUInt32LE(),
            uploadIntervalMs: try reader.readUInt32LE(),
            weightsChunkBytes: try reader.readUInt32LE(),
            weightsRefreshSteps: try reader.readUInt32LE(),
            heartbeatIntervalMs: try reader.readUInt32LE(),
            maxFrameBytes: try reader.readUInt32LE(),
            envID: try reader.readString("welcome.env_id", limits: limits),
            preset: try reader.readString("welcome.preset", limits: limits))
    }
}

// MARK: - REFUSED

/// The learner rejects a HELLO, saying why and whether to try again.
public struct Refused: PayloadCodable {
    static var messageType: MessageType { .refused }

    public var code: ErrorCode
    /// 0: do not retry; otherwise retry HELLO after this long.
    public var retryAfterMs: UInt32
    /// Versions the learner speaks.
    public var minVersion: ProtocolVersion
    public var maxVersion: ProtocolVersion
    /// One sentence naming what to change.
    public var text: String

    public init(code: ErrorCode, retryAfterMs: UInt32 = 0, minVersion: ProtocolVersion = WireV1.version,
                maxVersion: ProtocolVersion = WireV1.version, text: String) {
        self.code = code
        self.retryAfterMs = retryAfterMs
        self.minVersion = minVersion
        self.maxVersion = maxVersion
        self.text = text
    }

    func validate(limits: WireLimits) throws(WireError) {
        try Check.string(text, limits: limits, field: "refused.text")
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt16LE(code.rawValue)
        writer.writeUInt32LE(retryAfterMs)
        writer.writeUInt8(minVersion.major)
        writer.writeUInt8(minVersion.minor)
        writer.writeUInt8(maxVersion.major)
        writer.writeUInt8(maxVersion.minor)
        writer.writeString(text)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> Refused {
        Refused(
            code: try reader.readEnum16(ErrorCode.self, "refused.code"),
            retryAfterMs: try reader.readUInt32LE(),
            minVersion: ProtocolVersion(major: try reader.readUInt8(), minor: try reader.readUInt8()),
            maxVersion: ProtocolVersion(major: try reader.readUInt8(), minor: try reader.readUInt8()),
            text: try reader.readString("refused.text", limits: limits))
    }
}

// MARK: - GOODBYE

/// The peer is leaving.
public struct Goodbye: PayloadCodable {
    static var messageType: MessageType { .goodbye }

    public var reason: GoodbyeReason
    public var text: String

    public init(reason: GoodbyeReason, text: String = "") {
        self.reason = reason
        self.text = text
    }

    func validate(limits: WireLimits) throws(WireError) {
        try Check.string(text, limits: limits, field: "goodbye.text")
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt16LE(reason.rawValue)
        writer.writeString(text)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> Goodbye {
        Goodbye(reason: try reader.readEnum16(GoodbyeReason.self, "goodbye.reason"),
                text: try reader.readString("goodbye.text", limits: limits))
    }
}

// MARK: - ACK

/// Plain acknowledgement of EPISODE_STATS or GOODBYE.
public struct Ack: PayloadCodable {
    static var messageType: MessageType { .ack }

    public var ackedType: MessageType

    public init(ackedType: MessageType) { self.ackedType = ackedType }

    func validate(limits: WireLimits) throws(WireError) {}

    func write(to writer: inout WireWriter) { writer.writeUInt16LE(ackedType.rawValue) }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> Ack {
        Ack(ackedType: try reader.readEnum16(MessageType.self, "ack.acked_type"))
    }
}

// MARK: - ERROR

/// The reply to a request the learner could not serve.
public struct ErrorReply: PayloadCodable {
    static var messageType: MessageType { .error }

    public var code: ErrorCode
    /// The request's message type; 0 when it could not be read.
    public var failedType: UInt16
    /// For `TRY_LATER`; 0 otherwise.
    public var retryAfterMs: UInt32
    public var text: String

    public init(code: ErrorCode, failedType: UInt16 = 0, retryAfterMs: UInt32 = 0, text: String) {
        self.code = code
        self.failedType = failedType
        self.retryAfterMs = retryAfterMs
        self.text = text
    }

    /// The ERROR a learner sends for a request that failed to decode.
    public init(_ error: WireError, failedType: UInt16 = 0) {
        self.init(code: error.code, failedType: failedType, text: error.description)
    }

    func validate(limits: WireLimits) throws(WireError) {
        try Check.string(text, limits: limits, field: "error.text")
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt16LE(code.rawValue)
        writer.writeUInt16LE(failedType)
        writer.writeUInt32LE(retryAfterMs)
        writer.writeString(text)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> ErrorReply {
        ErrorReply(code: try reader.readEnum16(ErrorCode.self, "error.code"),
                   failedType: try reader.readUInt16LE(),
                   retryAfterMs: try reader.readUInt32LE(),
                   text: try reader.readString("error.text", limits: limits))
    }
}

// MARK: - HEARTBEAT

/// A peer's liveness signal, with its counters since start.
public struct Heartbeat: PayloadCodable {
    static var messageType: MessageType { .heartbeat }

    public var actorID: UInt32
    /// Transitions waiting to be sent.
    public var queueLength: UInt32
    public var runID: UInt64
    /// The version the peer acts with.
    public var policyVersion: UInt64
    public var envSteps: UInt64
    public var episodes: UInt64
    public var batchesSent: UInt64
    public var batchesAcked: UInt64
    /// Lost to a full local queue.
    public var transitionsDropped: UInt64

    public init(actorID: UInt32, queueLength: UInt32, runID: UInt64, policyVersion: UInt64, envSteps: UInt64,
                episodes: UInt64, batchesSent: UInt64, batchesAcked: UInt64, transitionsDropped: UInt64) {
        self.actorID = actorID
        self.queueLength = queueLength
        self.runID = runID
        self.policyVersion = policyVersion
        self.envSteps = envSteps
        self.episodes = episodes
        self.batchesSent = batchesSent
        self.batchesAcked = batchesAcked
        self.transitionsDropped = transitionsDropped
    }

    func validate(limits: WireLimits) throws(WireError) {}

    func write(to writer: inout WireWriter) {
        writer.writeUInt32LE(actorID)
        writer.writeUInt32LE(queueLength)
        for value in [runID, policyVersion, envSteps, episodes, batchesSent, batchesAcked, transitionsDropped] {
            writer.writeUInt64LE(value)
        }
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> Heartbeat {
        Heartbeat(actorID: try reader.readUInt32LE(), queueLength: try reader.readUInt32LE(),
                  runID: try reader.readUInt64LE(), policyVersion: try reader.readUInt64LE(),
                  envSteps: try reader.readUInt64LE(), episodes: try reader.readUInt64LE(),
                  batchesSent: try reader.readUInt64LE(), batchesAcked: try reader.readUInt64LE(),
                  transitionsDropped: try reader.readUInt64LE())
    }
}

// MARK: - HEARTBEAT_REPLY

/// The learner's answer to a heartbeat: enough for a peer to notice a restart or new weights.
public struct HeartbeatReply: PayloadCodable {
    static var messageType: MessageType { .heartbeatReply }

    public var learnerRunID: UInt64
    public var policyVersion: UInt64
    /// Gradient updates done.
    public var updates: UInt64
    /// Transitions in replay.
    public var replaySize: UInt64

    public init(learnerRunID: UInt64, policyVersion: UInt64, updates: UInt64, replaySize: UInt64) {
        self.learnerRunID = learnerRunID
        self.policyVersion = policyVersion
        self.updates = updates
        self.replaySize = replaySize
    }

    func validate(limits: WireLimits) throws(WireError) {}

    func write(to writer: inout WireWriter) {
        for value in [learnerRunID, policyVersion, updates, replaySize] { writer.writeUInt64LE(value) }
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> HeartbeatReply {
        HeartbeatReply(learnerRunID: try reader.readUInt64LE(), policyVersion: try reader.readUInt64LE(),
                       updates: try reader.readUInt64LE(), replaySize: try reader.readUInt64LE())
    }
}
