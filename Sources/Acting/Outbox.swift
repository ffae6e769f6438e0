import Foundation
import Wire

/// Batches sent (or about to be) and not yet acknowledged, oldest first, keyed by seq.
///
/// The environment thread appends; the upload task sends the oldest and removes it
/// once the learner acknowledges it (ACCEPTED or DUPLICATE). Nothing leaves before
/// that, so a learner that disappears loses nothing: after it returns the same batches
/// go again with the same seq, and its dedupe makes the resend harmless. The outbox is
/// bounded: when full, `append` blocks the environment thread (backpressure) rather than
/// dropping data.
public final class Outbox: @unchecked Sendable {
    private let condition = NSCondition()
    private var batches: [Wire.TransitionBatch] = []
    private var transitions = 0
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
    /// Returns false without appending when `giveUp` becomes true while waiting (checked
    /// every 50 ms), e.g. because the actor is stopping.
    @discardableResult
    public func append(_ batch: Wire.TransitionBatch, giveUp: () -> Bool = { false }) -> Bool {
        condition.lock()
        guard waitWhileFull(giveUp: giveUp) else {
            condition.unlock()
            return false
        }
        precondition(batches.last.map { $0.seq < batch.seq } ?? true, "batches enter the outbox in seq order")
        batches.append(batch)
        transitions += batch.count
        condition.unlock()
        doorbell.yield()
        return true
    }

    /// Waits until a batch would fit, without adding one: an actor calls it before it starts
    /// collecting the next batch, so no rows are collected while the learner holds it back
    /// (they would be stale on arrival). Returns false when `giveUp` becomes true first.
    public func waitForRoom(giveUp: () -> Bool = { false }) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        return waitWhileFull(giveUp: giveUp)
    }

    /// With the lock held: waits while full, checking `giveUp` every 50 ms.
    private func waitWhileFull(giveUp: () -> Bool) -> Bool {
        while batches.count >= capacity {
            if giveUp() { return false }
            _ = condition.wait(until: Date().addingTimeInterval(0.05))
        }
        return true
    }

    /// The oldest unacknowledged batch.
    public func first() -> Wire.TransitionBatch? {
        condition.lock()
        defer { condition.unlock() }
        return batches.first
    }

    /// Removes the batch with `seq` once acknowledged; false if it is not here.
    @discardableResult
    public func acknowledge(_ seq: UInt64) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard let index = batches.firstIndex(where: { $0.seq == seq }) else { return false }
        transitions -= batches[index].count
        batches.remove(at: index)
        condition.broadcast()
        departed.yield()
        return true
    }

    /// Batches waiting.
    public var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return batches.count
    }

    /// Transitions waiting (HEARTBEAT's queue_length).
    public var transitionCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return transitions
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
