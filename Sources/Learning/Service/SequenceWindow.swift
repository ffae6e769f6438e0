/// The TRANSITIONS sequence numbers already stored for one (actor id, run id).
///
/// A REQ socket resends a request after a timeout or a reconnect, and an actor
/// resends unacknowledged batches after a learner restart, so the same `seq` can
/// arrive more than once; the learner stores it once and answers the copies with
/// DUPLICATE. Actors send in order, so the seen numbers are a prefix `0 ..< floor`
/// plus a few above it: memory stays small however long the run.
public struct SequenceWindow: Sendable, Equatable {
    /// Every seq below this has been seen.
    public private(set) var floor: UInt64 = 0
    /// Seen numbers at or above `floor`.
    public private(set) var above: Set<UInt64> = []
    /// Most numbers kept above the floor before it is moved up.
    public let limit: Int

    public init(limit: Int = 1024) {
        precondition(limit >= 1, "a sequence window keeps at least one number")
        self.limit = limit
    }

    /// Whether `seq` has been recorded.
    public func contains(_ seq: UInt64) -> Bool {
        seq < floor || above.contains(seq)
    }

    /// Records `seq`; returns false when it was already recorded.
    ///
    /// When more than `limit` numbers wait above a gap, the floor jumps to the
    /// smallest of them: a batch from that old gap would then count as a duplicate.
    /// Only a peer that skips numbers (a learner that first hears of an actor in
    /// the middle of its run) reaches this, and the skipped batches were stored
    /// elsewhere or never sent.
    @discardableResult
    public mutating func insert(_ seq: UInt64) -> Bool {
        if contains(seq) { return false }
        above.insert(seq)
        if above.count > limit, let lowest = above.min() { floor = lowest }
        while above.remove(floor) != nil { floor += 1 }
        return true
    }
}
