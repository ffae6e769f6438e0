import Dispatch
import Synchronization
import Wire

/// Batches sent (or about to be) and not yet acknowledged, oldest first, keyed by seq.
///
/// The environment thread appends; the upload task sends the oldest and removes it
/// once the learner acknowledges it (ACCEPTED or DUPLICATE). Nothing leaves before
/// that, so a learner that disappears loses nothing: after it returns the same batches
/// go again with the same seq, and its dedupe makes the resend harmless. The outbox is
/// bounded: when full, `append` blocks the environment thread (backpressure) rather than
/// dropping data.
///
/// A producer that waits for room sleeps on a semaphore of its own, signalled by what can
/// end the wait: an acknowledgement that frees room, or `wakeProducers()` after its give-up
/// condition changed (a stop, the end of the run). Nothing re-checks on a timer.
public final class Outbox: Sendable {
    private struct State {
        var batches: [Wire.TransitionBatch] = []
        var transitions = 0
        /// Producers waiting for room, woken by an acknowledgement or `wakeProducers()`.
        var waiting: [DispatchSemaphore] = []

        /// Removes the waiting producers, for the caller to signal once the lock is released; each
        /// woken producer re-checks room and its give-up condition.
        mutating func takeWaiting() -> [DispatchSemaphore] {
            defer { waiting.removeAll() }
            return waiting
        }
    }

    private let state = Mutex(State())
    public let capacity: Int
    private let doorbell: AsyncStream<Void>.Continuation
    /// Rings whenever a batch arrives, so the upload task can sleep while the outbox is empty.
    public let arrivals: AsyncStream<Void>
    /// Rings whenever a batch is acknowledged and leaves (room for the next): a gateway listens.
    public let departures: AsyncStream<Void>
    private let departed: AsyncStream<Void>.Continuation

    public init(capacity: Int) {
        precondition(capacity >= 1, "an outbox holds at least one batch")
        self.capacity = capacity
        (arrivals, doorbell) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (departures, departed) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Appends `batch`, waiting while the outbox is full.
    ///
    /// Returns false without appending when `giveUp` is true before there is room, or when
    /// `deadline` passes first. `giveUp` is checked when the wait begins and after every
    /// wake-up, so whoever makes it true calls `wakeProducers()` afterwards.
    @discardableResult
    public func append(_ batch: Wire.TransitionBatch, deadline: ContinuousClock.Instant? = nil,
                       giveUp: () -> Bool = { false }) -> Bool {
        let appended = waitForRoom(deadline: deadline, giveUp: giveUp) { state in
            precondition(state.batches.last.map { $0.seq < batch.seq } ?? true, "batches enter the outbox in seq order")
            state.batches.append(batch)
            state.transitions += batch.count
        }
        if appended { doorbell.yield() }
        return appended
    }

    /// Waits until a batch would fit, without adding one: an actor calls it before it starts
    /// collecting the next batch, so no rows are collected while the learner holds it back
    /// (they would be stale on arrival). Returns false when `giveUp` becomes true first.
    public func waitForRoom(giveUp: () -> Bool = { false }) -> Bool {
        waitForRoom(deadline: nil, giveUp: giveUp) { _ in }
    }

    /// Waits for room, then runs `body` under the lock while the room is still there.
    private func waitForRoom(deadline: ContinuousClock.Instant?, giveUp: () -> Bool,
                             _ body: (inout State) -> Void) -> Bool {
        while true {
            let semaphore = DispatchSemaphore(value: 0)
            let outcome = state.withLock { state -> Bool? in
                if state.batches.count < capacity {
                    body(&state)
                    return true
                }
                if giveUp() { return false }
                if let deadline, ContinuousClock.now >= deadline { return false }
                state.waiting.append(semaphore)
                return nil
            }
            if let outcome { return outcome }
            guard let deadline else {
                semaphore.wait()
                continue
            }
            let left = max(0, ContinuousClock.now.duration(to: deadline) / .nanoseconds(1))
            // Timed wait: a drain budget (the last batch of a stopping actor waits this long for room).
            if semaphore.wait(timeout: .now() + .nanoseconds(Int(left))) == .timedOut {
                state.withLock { state in state.waiting.removeAll { $0 === semaphore } }
            }
        }
    }

    /// Wakes producers waiting for room so they re-check their give-up condition (a stop was
    /// requested, the run ended).
    public func wakeProducers() {
        for semaphore in state.withLock({ $0.takeWaiting() }) { semaphore.signal() }
    }

    /// The oldest unacknowledged batch.
    public func first() -> Wire.TransitionBatch? {
        state.withLock { $0.batches.first }
    }

    /// Removes the batch with `seq` once acknowledged; false if it is not here.
    @discardableResult
    public func acknowledge(_ seq: UInt64) -> Bool {
        let woken = state.withLock { state -> [DispatchSemaphore]? in
            guard let index = state.batches.firstIndex(where: { $0.seq == seq }) else { return nil }
            state.transitions -= state.batches[index].count
            state.batches.remove(at: index)
            return state.takeWaiting()
        }
        guard let woken else { return false }
        for semaphore in woken { semaphore.signal() }
        departed.yield()
        return true
    }

    /// Batches waiting.
    public var count: Int {
        state.withLock { $0.batches.count }
    }

    /// Transitions waiting (HEARTBEAT's queue_length).
    public var transitionCount: Int {
        state.withLock { $0.transitions }
    }

    /// Wakes the upload task without a new batch (to notice a stop).
    public func ring() { doorbell.yield() }
}

/// What the upload task does after the learner answered a TRANSITIONS request.
public enum UploadDecision: Equatable, Sendable {
    /// Stored (or stored before): drop it from the outbox.
    case acknowledged(duplicate: Bool, learnerVersion: UInt64)
    /// Backpressure: keep it and resend the same seq after the delay.
    case retry(afterMs: UInt32, learnerVersion: UInt64)
    /// The learner does not know this actor (it restarted): HELLO again, then resend.
    case hello
    /// The learner is stopping and may come back: wait, HELLO again, resend.
    case learnerStopping(retryAfterMs: UInt32)
    /// The learner finished the run: stop acting.
    case runOver
    /// The learner will never take this batch (different spaces, ...): stop with this error.
    case fatal(code: ErrorCode, text: String)
    /// A reply that makes no sense for this batch: back off and resend.
    case unexpected(String)

    /// Interprets the learner's reply to the batch with `seq`.
    public static func decide(reply: Message, seq: UInt64) -> UploadDecision {
        switch reply {
        case .transitionsAck(let ack) where ack.seq == seq:
            switch ack.status {
            case .accepted: return .acknowledged(duplicate: false, learnerVersion: ack.policyVersion)
            case .duplicate: return .acknowledged(duplicate: true, learnerVersion: ack.policyVersion)
            case .tryLater: return .retry(afterMs: max(1, ack.retryAfterMs), learnerVersion: ack.policyVersion)
            }
        case .transitionsAck(let ack):
            return .unexpected("acknowledgement of seq \(ack.seq) for seq \(seq)")
        case .error(let error):
            switch error.code {
            case .notWelcome: return .hello
            case .shuttingDown: return error.retryAfterMs == 0 ? .runOver : .learnerStopping(retryAfterMs: error.retryAfterMs)
            case .tryLater: return .retry(afterMs: max(1, error.retryAfterMs), learnerVersion: 0)
            case .internal: return .unexpected("learner error: \(error.text)")
            default: return .fatal(code: error.code, text: error.text)
            }
        default:
            return .unexpected("a \(reply.type.fieldPrefix) reply to TRANSITIONS")
        }
    }
}
