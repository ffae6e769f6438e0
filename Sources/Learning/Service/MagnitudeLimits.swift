import Wire

/// Optional bounds on the magnitude of observations and rewards a learner takes (PROTOCOL.md 5.8).
///
/// The wire only asks for finite values; a deployment that knows its environments can refuse a
/// peer whose values are absurd (a simulator bug, a corrupted bridge) before they reach replay.
/// Off by default (`--max-abs-observation`, `--max-abs-reward`).
public struct MagnitudeLimits: Sendable, Equatable {
    /// Largest |x| of an observation element; nil: no bound.
    public var observation: Float?
    /// Largest |r| of a reward; nil: no bound.
    public var reward: Float?

    public init(observation: Float? = nil, reward: Float? = nil) {
        self.observation = observation
        self.reward = reward
    }

    /// The ERROR for the first value of `batch` beyond a bound, naming field and row; nil if none.
    public func violation(in batch: Wire.TransitionBatch) -> ErrorReply? {
        let type = MessageType.transitions.rawValue
        if let limit = observation {
            for (field, column) in [("observations", batch.observations), ("next_observations", batch.nextObservations)] {
                if let index = column.firstIndex(where: { abs($0) > limit }) {
                    return Self.error(type, "transitions.\(field)", row: index / batch.observationSize,
                                      value: column[index], limit: limit, flag: "--max-abs-observation")
                }
            }
        }
        if let limit = reward, let row = batch.rewards.firstIndex(where: { abs($0) > limit }) {
            return Self.error(type, "transitions.rewards", row: row, value: batch.rewards[row], limit: limit,
                              flag: "--max-abs-reward")
        }
        return nil
    }

    /// The same for ACTION_REQUEST; a START row's reward is ignored, so it is not checked.
    public func violation(in request: ActionRequest) -> ErrorReply? {
        let type = MessageType.actionRequest.rawValue
        if let limit = observation, let index = request.observations.firstIndex(where: { abs($0) > limit }) {
            return Self.error(type, "action_request.observations", row: index / request.observationSize,
                              value: request.observations[index], limit: limit, flag: "--max-abs-observation")
        }
        if let limit = reward, let row = request.previousRewards.indices.first(where: {
            request.events[$0] != .start && abs(request.previousRewards[$0]) > limit
        }) {
            return Self.error(type, "action_request.prev_rewards", row: row, value: request.previousRewards[row],
                              limit: limit, flag: "--max-abs-reward")
        }
        return nil
    }

    private static func error(_ type: UInt16, _ field: String, row: Int, value: Float, limit: Float,
                              flag: String) -> ErrorReply {
        ErrorReply(code: .invalidValue, failedType: type,
                   text: "\(field) of row \(row) is \(value); this learner takes values within ±\(limit) (\(flag))")
    }
}
