/// Everything that can go wrong in Telemetry.
///
/// Logging never throws from `log`: a training step must not fail because a
/// disk filled up. Write failures are kept and reported by `flush()` and
/// `close()`; setup mistakes (a directory that cannot be made, an address that
/// cannot be bound) throw where they happen, at start-up.
public enum TelemetryError: Error, Equatable, Sendable {
    /// A record ends before its framing says it should.
    case truncatedRecord(offset: Int, needed: Int, available: Int)
    /// The checksum after a record's length does not match: the length cannot be trusted.
    case lengthChecksumMismatch(offset: Int)
    /// The checksum after a record's payload does not match.
    case dataChecksumMismatch(offset: Int)
    /// A record claims more bytes than the reader accepts.
    case recordTooLarge(offset: Int, length: UInt64, limit: Int)
    /// The log directory could not be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// A log file could not be opened for writing.
    case cannotOpenFile(path: String, reason: String)
    /// The background writer failed to write buffered bytes.
    case writeFailed(path: String, reason: String)
    /// A `--metrics-listen` style address could not be parsed.
    case invalidListenAddress(String, reason: String)
    /// A socket call of the metrics endpoint failed.
    case socketFailed(operation: String, reason: String)
}

extension TelemetryError: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .truncatedRecord(offset, needed, available):
            "record at byte \(offset) is truncated: needs \(needed) bytes, \(available) remain"
        case let .lengthChecksumMismatch(offset):
            "record at byte \(offset): length checksum mismatch"
        case let .dataChecksumMismatch(offset):
            "record at byte \(offset): payload checksum mismatch"
        case let .recordTooLarge(offset, length, limit):
            "record at byte \(offset) claims \(length) bytes, more than the limit of \(limit)"
        case let .cannotCreateDirectory(path, reason):
            "cannot create log directory \(path): \(reason)"
        case let .cannotOpenFile(path, reason):
            "cannot open \(path) for writing: \(reason)"
        case let .writeFailed(path, reason):
            "writing \(path) failed: \(reason)"
        case let .invalidListenAddress(address, reason):
            "invalid listen address '\(address)': \(reason)"
        case let .socketFailed(operation, reason):
            "metrics endpoint: \(operation) failed: \(reason)"
        }
    }
}
