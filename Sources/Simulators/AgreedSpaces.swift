import Wire

/// The observation and action spaces every peer of a run must share.
public struct AgreedSpaces: Sendable, Equatable {
    public var observation: Space
    /// The simulator's real action range; actions on the wire are in [-1, 1].
    public var action: Space

    public init(observation: Space, action: Space) {
        self.observation = observation
        self.action = action
    }

    public var observationSize: Int { observation.elementCount }
    public var actionSize: Int { action.elementCount }

    /// Why a peer's spaces differ from these, or nil when they agree.
    ///
    /// Shapes must match exactly; bounds may differ (observation bounds are often
    /// unbounded, and actions travel normalised to [-1, 1] whatever the real range).
    public func mismatch(observation other: Space, action otherAction: Space) -> String? {
        Self.difference("hello.observation_space", other, observation)
            ?? Self.difference("hello.action_space", otherAction, action)
    }

    /// Shape first, then each bound element by element (PROTOCOL.md 5.1): the first that differs.
    private static func difference(_ field: String, _ peer: Space, _ learner: Space) -> String? {
        if peer.shape != learner.shape {
            return "\(field) has shape \(peer.shape), the learner trains on \(learner.shape)"
        }
        for (name, theirs, ours) in [("low", peer.low, learner.low), ("high", peer.high, learner.high)] {
            if let index = theirs.indices.first(where: { $0 < ours.count && theirs[$0] != ours[$0] }) {
                return "\(field).\(name)[\(index)] is \(theirs[index]), the learner's is \(ours[index])"
            }
        }
        return nil
    }
}
