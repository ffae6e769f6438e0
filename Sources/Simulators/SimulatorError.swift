import Wire

/// Why `SimulatorEpisodes` refused an ACTION_REQUEST; nothing was changed by a refused request.
///
/// Every case maps to a wire `ErrorCode`, so the learner answers with ERROR naming the field and
/// the simulator learns what to fix (PROTOCOL.md section 6).
public enum SimulatorError: Error, Equatable, Sendable {
    /// `obs_dim` or `action_dim` differs from the spaces agreed in HELLO (`SPACE_MISMATCH`).
    case spaceMismatch(field: String, expected: Int, actual: Int)
    /// The request names one episode in two rows other than END then START (`MALFORMED`): the
    /// rows disagree about what happened to it. `row` is the row that repeats it.
    case duplicateEpisode(episodeID: UInt64, row: Int)
    /// A column's length disagrees with `count` and the dimensions (`MALFORMED`). The decoder
    /// rules this out; a request built in-process could still carry it.
    case shapeMismatch(field: String, expected: Int, actual: Int)
    /// A `STEP` row carries done flags (`INVALID_VALUE`): an ended step must be sent as `END`,
    /// or a terminal transition would be stored as one that bootstraps.
    case doneFlagsOnStep(row: Int)
    /// The learner already serves `limit` simulator sessions (`FULL`).
    case tooManySessions(limit: Int)
    /// The request would leave the session with more than `limit` running episodes (`FULL`).
    case tooManyEpisodes(session: UInt64, limit: Int)

    /// The wire error code the learner answers with.
    public var code: ErrorCode {
        switch self {
        case .spaceMismatch: .spaceMismatch
        case .duplicateEpisode, .shapeMismatch: .malformed
        case .doneFlagsOnStep: .invalidValue
        case .tooManySessions, .tooManyEpisodes: .full
        }
    }

    /// The spec's field the error names, if it names one.
    public var field: String? {
        switch self {
        case .spaceMismatch(let field, _, _), .shapeMismatch(let field, _, _): field
        case .duplicateEpisode: "action_request.episode_ids"
        case .doneFlagsOnStep: "action_request.prev_done_flags"
        case .tooManySessions, .tooManyEpisodes: nil
        }
    }
}

extension SimulatorError: CustomStringConvertible {
    /// One sentence for an ERROR message's text, saying what to change.
    public var description: String {
        switch self {
        case let .spaceMismatch(field, expected, actual):
            "\(field) is \(actual) but the agreed space has \(expected) elements"
        case let .duplicateEpisode(episodeID, row):
            "action_request.episode_ids[\(row)] names episode \(episodeID) again; send one row per episode "
                + "(END then START where a slot resets)"
        case let .shapeMismatch(field, expected, actual):
            "\(field) holds \(actual) elements, expected \(expected)"
        case let .doneFlagsOnStep(row):
            "action_request.prev_done_flags[\(row)] is set on a STEP row; a step that ended is sent as END"
        case let .tooManySessions(limit):
            "the learner already serves \(limit) simulator sessions; retry later"
        case let .tooManyEpisodes(session, limit):
            "session \(session) would run more than \(limit) episodes at once; end some or run fewer"
        }
    }
}
