import Replay
import Simulators
import Wire

// MARK: - Rows and requests

/// One ACTION_REQUEST row, written the way a test reads best.
struct Row {
    var id: UInt64
    var event: ActionEvent
    var observation: [Float]
    var reward: Float = 0
    var flags: UInt8 = 0

    static func start(_ id: UInt64, _ observation: [Float]) -> Row {
        Row(id: id, event: .start, observation: observation)
    }

    static func step(_ id: UInt64, _ observation: [Float], reward: Float) -> Row {
        Row(id: id, event: .step, observation: observation, reward: reward)
    }

    static func end(_ id: UInt64, _ observation: [Float], reward: Float, flags: DoneFlags) -> Row {
        Row(id: id, event: .end, observation: observation, reward: reward, flags: flags.rawValue)
    }
}

/// The dimensions every simulator test agrees on: two observation and two action elements,
/// so row-major layout mistakes show.
enum TestSpace {
    static let observation = 2
    static let action = 2
}

func actionRequest(_ rows: [Row], observationSize: Int = TestSpace.observation, actionSize: Int = TestSpace.action,
                   wantValues: Bool = false, deterministic: Bool = false) -> ActionRequest {
    ActionRequest(
        deterministic: deterministic, wantValues: wantValues, observationSize: observationSize, actionSize: actionSize,
        episodeIDs: rows.map(\.id), observations: rows.flatMap(\.observation),
        previousRewards: rows.map(\.reward), events: rows.map(\.event), previousDoneFlags: rows.map(\.flags))
}

// MARK: - A fake policy

/// The action the fake policy picks for an observation: distinct per observation and per element.
func fakeAction(_ observation: ArraySlice<Float>) -> [Float] {
    let o = Array(observation)
    return [o[0] / 100, -o[1] / 100]
}

/// The fake V(s).
func fakeValue(_ observation: ArraySlice<Float>) -> Float {
    let o = Array(observation)
    return o[0] + 2 * o[1]
}

/// One transition, for comparing batches by value.
struct Transition: Equatable, CustomStringConvertible {
    var observation: [Float]
    var action: [Float]
    var reward: Float
    var terminated: Float
    var nextObservation: [Float]

    var description: String { "(\(observation), \(action), \(reward), \(terminated), \(nextObservation))" }
}

extension Replay.TransitionBatch {
    /// The rows of the batch as values.
    var rows: [Transition] {
        (0..<count).map { i in
            Transition(
                observation: Array(observations[i * observationDimension ..< (i + 1) * observationDimension]),
                action: Array(actions[i * actionDimension ..< (i + 1) * actionDimension]),
                reward: rewards[i], terminated: terminations[i],
                nextObservation: Array(nextObservations[i * observationDimension ..< (i + 1) * observationDimension]))
        }
    }
}

// MARK: - A learner loop without sockets

/// Drives `SimulatorEpisodes` as the learner service would: handle, act on every acting row
/// with the fake policy, complete. Time is a fixed origin plus the seconds a test names.
struct Harness {
    var episodes: SimulatorEpisodes
    let origin = ContinuousClock.now
    var nextRequestID: UInt32 = 1
    var policyVersion: UInt64 = 7

    init(limits: SimulatorLimits = SimulatorLimits()) {
        episodes = SimulatorEpisodes(observationDimension: TestSpace.observation, actionDimension: TestSpace.action,
                                     limits: limits)
    }

    func at(_ seconds: Double) -> ContinuousClock.Instant {
        origin.advanced(by: .seconds(seconds))
    }

    /// One full round trip with a fresh request id.
    @discardableResult
    mutating func exchange(_ rows: [Row], session: UInt64 = 1, at seconds: Double = 0, wantValues: Bool = false)
        throws(SimulatorError) -> (prepared: PreparedRequest, reply: ActionReply)
    {
        let id = nextRequestID
        nextRequestID += 1
        return try exchange(rows, session: session, requestID: id, at: seconds, wantValues: wantValues)
    }

    /// One full round trip with the given request id (for resends).
    @discardableResult
    mutating func exchange(_ rows: [Row], session: UInt64, requestID: UInt32, at seconds: Double = 0,
                           wantValues: Bool = false) throws(SimulatorError)
        -> (prepared: PreparedRequest, reply: ActionReply)
    {
        let prepared = try episodes.handle(request: actionRequest(rows, wantValues: wantValues), session: session,
                                           requestID: requestID, now: at(seconds))
        return (prepared, act(prepared))
    }

    /// `complete` with the fake policy's actions and values.
    mutating func act(_ prepared: PreparedRequest) -> ActionReply {
        let (actions, values) = Self.policy(prepared)
        return episodes.complete(prepared, actions: actions, values: values, policyVersion: policyVersion)
    }

    /// The fake policy's output for the acting rows of `prepared`.
    static func policy(_ prepared: PreparedRequest) -> (actions: [Float], values: [Float]) {
        let width = prepared.observationDimension
        var actions: [Float] = []
        var values: [Float] = []
        for k in 0..<prepared.actingCount {
            let observation = prepared.observations[k * width ..< (k + 1) * width]
            actions += fakeAction(observation)
            values.append(fakeValue(observation))
        }
        return (actions, values)
    }
}

// MARK: - Pendulum's spaces and replies

let pendulumObservation = Space(shape: [3], low: [-1, -1, -8], high: [1, 1, 8])
let pendulumAction = Space(shape: [1], low: -2, high: 2)

extension Message {
    /// The code of an ERROR or REFUSED reply, else nil.
    var errorCode: ErrorCode? {
        switch self {
        case .error(let error): error.code
        case .refused(let refused): refused.code
        default: nil
        }
    }
}
