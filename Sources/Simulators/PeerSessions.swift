import Wire

/// Names one actor process: its stable id and the random id of its current run.
public struct PeerKey: Hashable, Sendable, Comparable {
    public var actorID: UInt32
    public var runID: UInt64

    public init(actorID: UInt32, runID: UInt64) {
        self.actorID = actorID
        self.runID = runID
    }

    public static func < (a: PeerKey, b: PeerKey) -> Bool { (a.actorID, a.runID) < (b.actorID, b.runID) }
}

/// What a HELLO welcomed on one connection: its role and the ids it claimed.
public struct PeerSession: Sendable, Equatable {
    public let role: Role
    public let key: PeerKey

    public init(role: Role, key: PeerKey) {
        self.role = role
        self.key = key
    }
}

/// The sessions of a learner or gateway: one per nng pipe (connection) a HELLO was welcomed on.
///
/// The auth token is checked once, in HELLO; what it protects afterwards is the pipe. Every other
/// request is checked against the session of the pipe it arrived on (PROTOCOL.md 3.1): none is
/// NOT_WELCOME, a role the "Sent by" column does not list is UNEXPECTED_MESSAGE, and ids other
/// than the session's are NOT_WELCOME. A plain value, so the rules are testable without sockets.
public struct PeerSessions: Sendable {
    private var byPipe: [UInt32: PeerSession] = [:]

    public init() {}

    /// Sessions open now.
    public var count: Int { byPipe.count }

    /// The session on `pipe`, if a HELLO was welcomed there and it has not ended.
    public func session(onPipe pipe: UInt32) -> PeerSession? { byPipe[pipe] }

    /// Whether any open session claims `key` (a run with a live session is never pruned).
    public func isLive(_ key: PeerKey) -> Bool { byPipe.values.contains { $0.key == key } }

    /// Opens the session a HELLO on `pipe` was welcomed with; a second HELLO on a pipe replaces
    /// its session. Returns the replaced one.
    @discardableResult
    public mutating func open(_ session: PeerSession, onPipe pipe: UInt32) -> PeerSession? {
        byPipe.updateValue(session, forKey: pipe)
    }

    /// Ends the session on `pipe` (GOODBYE, or the connection closed); returns it.
    @discardableResult
    public mutating func end(pipe: UInt32) -> PeerSession? {
        byPipe.removeValue(forKey: pipe)
    }

    /// Ends every session that claims `key` (the learner forgot a silent peer).
    public mutating func end(key: PeerKey) {
        byPipe = byPipe.filter { $0.value.key != key }
    }

    /// nil when `message` may be served for the session on `pipe`; otherwise the ERROR to answer.
    ///
    /// HELLO is always allowed (it is how a session begins) and not checked here.
    public func check(_ message: Message, onPipe pipe: UInt32) -> ErrorReply? {
        Self.check(message, session: byPipe[pipe])
    }

    /// The rule of `check`, for a session already looked up.
    public static func check(_ message: Message, session: PeerSession?) -> ErrorReply? {
        let type = message.type
        if type == .hello { return nil }
        if type.senders.isEmpty {
            return ErrorReply(code: .unexpectedMessage, failedType: type.rawValue,
                              text: "\(type.fieldPrefix) is a reply, not a request")
        }
        guard let session else {
            return ErrorReply(code: .notWelcome, failedType: type.rawValue,
                              text: "say HELLO on this connection before \(type.fieldPrefix)")
        }
        guard type.senders.contains(session.role) else {
            let senders = Role.allCases.filter { type.senders.contains($0) }.map(\.name).joined(separator: " or ")
            return ErrorReply(code: .unexpectedMessage, failedType: type.rawValue,
                              text: "\(type.fieldPrefix) is sent by \(senders); this connection said HELLO as "
                                + session.role.name)
        }
        if let claimed = message.claimedPeer, claimed != session.key {
            // The run id is left out of the text: it names a run, and errors end up in logs.
            let what = claimed.actorID != session.key.actorID
                ? "\(type.fieldPrefix).actor_id \(claimed.actorID) is not the actor_id \(session.key.actorID)"
                : "\(type.fieldPrefix).run_id is not the run_id"
            return ErrorReply(code: .notWelcome, failedType: type.rawValue,
                              text: "\(what) this connection said HELLO with; say HELLO with the ids you send")
        }
        return nil
    }
}

extension Message {
    /// The (actor_id, run_id) a request names, for the messages that name one.
    public var claimedPeer: PeerKey? {
        switch self {
        case .transitions(let batch): PeerKey(actorID: batch.actorID, runID: batch.runID)
        case .episodeStats(let stats): PeerKey(actorID: stats.actorID, runID: stats.runID)
        case .heartbeat(let beat): PeerKey(actorID: beat.actorID, runID: beat.runID)
        default: nil
        }
    }
}
