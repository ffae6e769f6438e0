/// Error codes of protocol/PROTOCOL.md section 6, as they travel in ERROR and REFUSED.
///
/// Values are used on the wire; never renumber. Codes 1...9 come out of the decoder; the rest are
/// decisions of the learner that it reports with the same registry.
public enum ErrorCode: UInt16, Sendable, CaseIterable {
    case truncated = 1
    case badMagic = 2
    case unsupportedVersion = 3
    case unknownMessageType = 4
    case lengthOverLimit = 5
    case nonFinite = 6
    case badChecksum = 7
    case invalidValue = 8
    case malformed = 9
    case spaceMismatch = 10
    case authFailed = 11
    case duplicate = 12
    case notWelcome = 13
    case tryLater = 14
    case `internal` = 15
    case unexpectedMessage = 16
    case full = 17
    case staleVersion = 18
    case shuttingDown = 19

    /// The spec's upper-case name (`NON_FINITE`), used in golden vectors and logs.
    public var name: String {
        switch self {
        case .truncated: "TRUNCATED"
        case .badMagic: "BAD_MAGIC"
        case .unsupportedVersion: "UNSUPPORTED_VERSION"
        case .unknownMessageType: "UNKNOWN_MESSAGE_TYPE"
        case .lengthOverLimit: "LENGTH_OVER_LIMIT"
        case .nonFinite: "NON_FINITE"
        case .badChecksum: "BAD_CHECKSUM"
        case .invalidValue: "INVALID_VALUE"
        case .malformed: "MALFORMED"
        case .spaceMismatch: "SPACE_MISMATCH"
        case .authFailed: "AUTH_FAILED"
        case .duplicate: "DUPLICATE"
        case .notWelcome: "NOT_WELCOME"
        case .tryLater: "TRY_LATER"
        case .internal: "INTERNAL"
        case .unexpectedMessage: "UNEXPECTED_MESSAGE"
        case .full: "FULL"
        case .staleVersion: "STALE_VERSION"
        case .shuttingDown: "SHUTTING_DOWN"
        }
    }
}

/// Why a frame could not be decoded (or a message could not be encoded).
///
/// Every case maps to a wire `ErrorCode`, so a learner can answer a bad request with ERROR and
/// the peer learns exactly which field was wrong. Field names are the spec's dotted paths, e.g.
/// `transitions.rewards` or `hello.observation_space.low`.
public enum WireError: Error, Equatable, Sendable {
    /// Fewer bytes than a header or length field requires; `needed` and `available` count from
    /// the same origin (the start of the frame, or the reader's position in the payload).
    case truncated(needed: Int, available: Int)
    /// The frame does not start with `MEOW`.
    case badMagic
    /// The header's major version is not 1.
    case unsupportedVersion(major: UInt8, minor: UInt8)
    /// The header's message type is not in the registry.
    case unknownMessageType(UInt16)
    /// A length or count claims more than the configured limit; nothing was allocated for it.
    case lengthOverLimit(field: String, limit: Int, claimed: UInt64)
    /// NaN or infinity at element `index` of `field`.
    case nonFinite(field: String, index: Int)
    /// CRC-32 of the frame disagrees with its checksum field.
    case badChecksum(expected: UInt32, actual: UInt32)
    /// A field's value lies outside its domain (action outside [-1, 1], unknown enum value,
    /// reserved bit set); `index` is the element for columns, 0 for scalars.
    case invalidValue(field: String, index: Int)
    /// Fields that disagree with each other or with the frame (trailing bytes, bad UTF-8,
    /// data outside the weights blob, broken extension tail).
    case malformed(field: String, reason: String)

    /// The wire error code a learner sends back for this failure.
    public var code: ErrorCode {
        switch self {
        case .truncated: .truncated
        case .badMagic: .badMagic
        case .unsupportedVersion: .unsupportedVersion
        case .unknownMessageType: .unknownMessageType
        case .lengthOverLimit: .lengthOverLimit
        case .nonFinite: .nonFinite
        case .badChecksum: .badChecksum
        case .invalidValue: .invalidValue
        case .malformed: .malformed
        }
    }

    /// The field the error names, if it names one.
    public var field: String? {
        switch self {
        case .lengthOverLimit(let field, _, _), .nonFinite(let field, _),
             .invalidValue(let field, _), .malformed(let field, _):
            field
        default:
            nil
        }
    }
}

extension WireError: CustomStringConvertible {
    /// One sentence suitable for an ERROR message's text.
    public var description: String {
        switch self {
        case .truncated(let needed, let available):
            "truncated: needed \(needed) bytes, \(available) available"
        case .badMagic:
            "bad magic: not a meow frame"
        case .unsupportedVersion(let major, let minor):
            "unsupported protocol version \(major).\(minor); this receiver speaks major 1"
        case .unknownMessageType(let type):
            "unknown message type 0x\(String(type, radix: 16))"
        case .lengthOverLimit(let field, let limit, let claimed):
            "\(field) claims \(claimed), over the limit of \(limit)"
        case .nonFinite(let field, let index):
            "\(field)[\(index)] is not finite"
        case .badChecksum(let expected, let actual):
            "bad checksum: header says 0x\(String(expected, radix: 16)), frame has 0x\(String(actual, radix: 16))"
        case .invalidValue(let field, let index):
            "\(field)[\(index)] is outside its allowed values"
        case .malformed(let field, let reason):
            "\(field) is malformed: \(reason)"
        }
    }
}
