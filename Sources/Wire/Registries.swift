/// Constants of protocol version 1 (PROTOCOL.md section 2).
public enum WireV1 {
    /// `MEOW` in ASCII: the first four bytes of every frame.
    public static let magic: [UInt8] = [0x4D, 0x45, 0x4F, 0x57]
    /// The wire format this module reads and writes.
    public static let major: UInt8 = 1
    /// The newest minor version this module knows.
    public static let minor: UInt8 = 0
    /// Bytes before the payload.
    public static let headerSize = 24
    /// Flag bits a receiver must understand (PROTOCOL.md 2.2); version 1.0 defines none.
    public static let mustUnderstandFlags: UInt32 = 0x0000_FFFF
    /// The version this module speaks, for HELLO ranges.
    public static let version = ProtocolVersion(major: major, minor: minor)
}

/// A protocol version, ordered major first.
public struct ProtocolVersion: Comparable, Hashable, Sendable, CustomStringConvertible {
    public var major: UInt8
    public var minor: UInt8

    public init(major: UInt8, minor: UInt8) {
        self.major = major
        self.minor = minor
    }

    public static func < (a: ProtocolVersion, b: ProtocolVersion) -> Bool {
        (a.major, a.minor) < (b.major, b.minor)
    }

    public var description: String { "\(major).\(minor)" }
}

/// Message types (PROTOCOL.md section 3). Values are used on the wire; never renumber.
public enum MessageType: UInt16, Sendable, CaseIterable {
    case hello = 0x0001
    case welcome = 0x0002
    case refused = 0x0003
    case goodbye = 0x0004
    case ack = 0x0005
    case error = 0x0006
    case heartbeat = 0x0007
    case heartbeatReply = 0x0008
    case transitions = 0x0010
    case transitionsAck = 0x0011
    case episodeStats = 0x0012
    case weightsRequest = 0x0020
    case weights = 0x0021
    case actionRequest = 0x0030
    case actionReply = 0x0031

    /// The spec's snake-case name, the prefix of every field path in errors.
    public var fieldPrefix: String {
        switch self {
        case .hello: "hello"
        case .welcome: "welcome"
        case .refused: "refused"
        case .goodbye: "goodbye"
        case .ack: "ack"
        case .error: "error"
        case .heartbeat: "heartbeat"
        case .heartbeatReply: "heartbeat_reply"
        case .transitions: "transitions"
        case .transitionsAck: "transitions_ack"
        case .episodeStats: "episode_stats"
        case .weightsRequest: "weights_request"
        case .weights: "weights"
        case .actionRequest: "action_request"
        case .actionReply: "action_reply"
        }
    }

    /// The roles that may send this type to a learner: PROTOCOL.md 3's "Sent by" column, which
    /// is normative. Empty for replies, which only a learner sends.
    public var senders: Set<Role> {
        switch self {
        case .hello, .goodbye, .heartbeat: Set(Role.allCases)
        case .transitions: [.actor]
        case .episodeStats: [.actor, .simulator]
        case .weightsRequest: [.actor, .observer]
        case .actionRequest: [.simulator]
        case .welcome, .refused, .ack, .error, .heartbeatReply, .transitionsAck, .weights, .actionReply: []
        }
    }
}

/// What a peer is (HELLO `role`).
public enum Role: UInt8, Sendable, CaseIterable {
    case actor = 1
    case simulator = 2
    case observer = 3

    /// The spec's name of the role, for error texts.
    public var name: String {
        switch self {
        case .actor: "actor"
        case .simulator: "simulator"
        case .observer: "observer"
        }
    }
}

/// Element types of spaces and tensors (PROTOCOL.md 4.3).
public enum DType: UInt8, Sendable, CaseIterable {
    case float32 = 1
    case float64 = 2
    case float16 = 3
    case bfloat16 = 4
    case int32 = 5
    case int64 = 6
    case uint8 = 7

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .uint8: 1
        case .float16, .bfloat16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }
}

/// How a step ended (TRANSITIONS `done_flags`, ACTION_REQUEST `prev_done_flags`).
public struct DoneFlags: OptionSet, Sendable, Hashable {
    public var rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A terminal state: the target does not bootstrap.
    public static let terminated = DoneFlags(rawValue: 1 << 0)
    /// A time limit: the target still bootstraps from the real next observation.
    public static let truncated = DoneFlags(rawValue: 1 << 1)
    /// Every bit version 1 defines.
    public static let known: UInt8 = 0b11
}

/// Optional features negotiated in HELLO and WELCOME; unknown bits are ignored.
public struct Capabilities: OptionSet, Sendable, Hashable {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// ACTION_REPLY may carry V(s).
    public static let valueEstimates = Capabilities(rawValue: 1 << 0)
    /// The learner schedules evaluation episodes for this simulator (PROTOCOL.md 5.15).
    public static let evaluation = Capabilities(rawValue: 1 << 1)
}

/// Why a peer says GOODBYE.
public enum GoodbyeReason: UInt16, Sendable, CaseIterable {
    case done = 0
    case shuttingDown = 1
    case error = 2
    case restarting = 3
}

/// What the learner did with a TRANSITIONS batch.
public enum TransitionsStatus: UInt8, Sendable, CaseIterable {
    /// Stored.
    case accepted = 0
    /// Stored earlier; this copy was a resend.
    case duplicate = 1
    /// Not stored: resend the same batch after `retryAfterMs`.
    case tryLater = 2
}

/// The kind of an ACTION_REQUEST row.
public enum ActionEvent: UInt8, Sendable, CaseIterable {
    /// An episode begins: the observation is the reset observation.
    case start = 0
    /// The episode continues: the row reports the previous step.
    case step = 1
    /// The episode ended: the observation is the real final one; no action is needed.
    case end = 2
}
