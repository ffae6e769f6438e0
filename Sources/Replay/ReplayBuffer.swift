/// A preallocated ring of transitions (s, a, r, done, s') with uniform sampling.
///
/// All storage is allocated once at full capacity, in float32 columns, so a run
/// that starts will not run out of memory later; `init` refuses a capacity that
/// does not fit in MemAvailable. When full, each insert overwrites the oldest
/// transition. Sampling is uniform with replacement over the stored transitions
/// (docs/algorithm.md §5.2), drawn from
/// a generator the caller passes in so a seeded run stays deterministic.
///
/// A value type: the learner owns one and mutates it from one task. Copying it
/// copies the storage on the next write, so pass it `inout` rather than by value.
public struct ReplayBuffer: Sendable {
    /// Transitions the buffer holds when full.
    public let capacity: Int
    /// Components per observation.
    public let observationDimension: Int
    /// Components per action.
    public let actionDimension: Int

    /// Transitions stored now: grows to `capacity`, then stays there.
    public internal(set) var count = 0
    /// Transitions inserted since creation, overwritten ones included.
    public internal(set) var insertCount = 0

    /// The slot the next insert writes; slots `0 ..< count` are always the filled ones.
    var nextSlot = 0
    /// The ring itself: `capacity` rows in columns (internal for ReplaySnapshot.swift).
    var storage: TransitionBatch

    /// The bytes a buffer of this shape allocates, to check before building one.
    ///
    /// Per transition: two observations, one action, a reward and a termination
    /// flag, 4 bytes each. Saturates at `Int.max` instead of overflowing.
    public static func bytes(capacity: Int, observationDimension: Int, actionDimension: Int) -> Int {
        let floatsPerTransition = 2 * observationDimension + actionDimension + 2
        let (floats, overflow) = capacity.multipliedReportingOverflow(by: floatsPerTransition)
        let (bytes, bytesOverflow) = floats.multipliedReportingOverflow(by: MemoryLayout<Float>.stride)
        return overflow || bytesOverflow ? Int.max : bytes
    }

    /// Allocates a buffer, first checking that it fits in `availableMemory` bytes.
    ///
    /// `availableMemory` defaults to MemAvailable from /proc/meminfo; nil skips the
    /// check (non-Linux hosts). Pass a smaller figure to keep headroom for the rest
    /// of the process.
    public init(
        capacity: Int, observationDimension: Int, actionDimension: Int,
        availableMemory: Int? = MemoryInfo.availableBytes()
    ) throws(ReplayError) {
        guard capacity >= 1 else { throw .invalidCapacity(capacity) }
        guard observationDimension >= 1, actionDimension >= 1 else {
            throw .invalidDimensions(observation: observationDimension, action: actionDimension)
        }
        let required = Self.bytes(
            capacity: capacity, observationDimension: observationDimension, actionDimension: actionDimension)
        if let availableMemory, required > availableMemory {
            throw .insufficientMemory(required: required, available: availableMemory)
        }
        self.capacity = capacity
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        // Filling with zeros touches every page now, so the memory is really committed.
        storage = TransitionBatch(
            zeroedRows: capacity, observationDimension: observationDimension, actionDimension: actionDimension)
    }

    /// Whether the buffer has wrapped and now overwrites its oldest transitions.
    public var isFull: Bool { count == capacity }

    // MARK: - Inserting

    /// Stores one transition and returns how many old ones it overwrote (0 or 1).
    ///
    /// `terminated` is gymnasium's flag: true only for a terminal s', never for a
    /// time-limit truncation, whose `nextObservation` is the real final observation.
    @discardableResult
    public mutating func insert(
        observation: [Float], action: [Float], reward: Float, terminated: Bool, nextObservation: [Float]
    ) throws(ReplayError) -> Int {
        try Self.check("observation", observation.count, observationDimension)
        try Self.check("action", action.count, actionDimension)
        try Self.check("next observation", nextObservation.count, observationDimension)
        let slot = nextSlot
        let width = observationDimension
        Self.copyRows(observation, from: 0, into: &storage.observations, at: slot, rows: 1, width: width)
        Self.copyRows(action, from: 0, into: &storage.actions, at: slot, rows: 1, width: actionDimension)
        Self.copyRows(nextObservation, from: 0, into: &storage.nextObservations, at: slot, rows: 1, width: width)
        storage.rewards[slot] = reward
        storage.terminations[slot] = terminated ? 1 : 0
        return advance(by: 1)
    }

    /// Stores every row of `batch` in order, as that many single inserts would, and
    /// returns how many old transitions were overwritten.
    ///
    /// Rows that a batch larger than the capacity would overwrite within itself are
    /// skipped, leaving exactly what sequential inserts leave.
    @discardableResult
    public mutating func insert(contentsOf batch: TransitionBatch) throws(ReplayError) -> Int {
        try Self.check("batch observation width", batch.observationDimension, observationDimension)
        try Self.check("batch action width", batch.actionDimension, actionDimension)
        let skipped = max(0, batch.count - capacity)
        var row = skipped
        var slot = (nextSlot + skipped) % capacity
        while row < batch.count {
            // Copy the longest run that is contiguous in both the batch and the ring.
            let rows = min(batch.count - row, capacity - slot)
            for (column, width) in columns {
                Self.copyRows(
                    batch[keyPath: column], from: row, into: &storage[keyPath: column], at: slot, rows: rows,
                    width: width)
            }
            row += rows
            slot = (slot + rows) % capacity
        }
        return advance(by: batch.count)
    }

    /// Moves the write position and counters past `inserted` new transitions.
    private mutating func advance(by inserted: Int) -> Int {
        let overwritten = max(0, count + inserted - capacity)
        nextSlot = (nextSlot + inserted % capacity) % capacity
        count = min(capacity, count + inserted)
        insertCount += inserted
        return overwritten
    }

    // MARK: - Sampling

    /// Fills `batch` with `batch.count` transitions drawn uniformly with replacement.
    ///
    /// Allocates nothing: the batch's columns are overwritten in place, and
    /// `batch.slots` records which ring slot each row came from. The buffer must hold
    /// at least one transition (the rate limiter's minimum size guarantees it).
    public func sample(into batch: inout TransitionBatch, using generator: inout some RandomNumberGenerator) {
        precondition(count > 0, "cannot sample from an empty replay buffer")
        precondition(batch.slots.count == batch.count, "sample into a batch made with init(count:...)")
        let bound = UInt64(count)
        for row in 0..<batch.count {
            batch.slots[row] = Int(generator.next(upperBound: bound))
        }
        gather(into: &batch)
    }

    /// Copies the transitions at `batch.slots` into the batch's columns.
    ///
    /// `sample` draws the slots; tests and diagnostics can set them directly.
    func gather(into batch: inout TransitionBatch) {
        precondition(
            batch.observationDimension == observationDimension && batch.actionDimension == actionDimension,
            "batch dimensions (\(batch.observationDimension), \(batch.actionDimension)) do not match "
                + "replay (\(observationDimension), \(actionDimension))")
        precondition(batch.slots.allSatisfy { 0 <= $0 && $0 < count }, "slot outside the filled part of replay")
        for (column, width) in columns {
            Self.gatherRows(storage[keyPath: column], slots: batch.slots, into: &batch[keyPath: column], width: width)
        }
    }

    /// The transitions in insertion order, oldest first, as one batch (for tests and snapshots).
    public func orderedContents() -> TransitionBatch? {
        guard count > 0 else { return nil }
        var batch = TransitionBatch(
            count: count, observationDimension: observationDimension, actionDimension: actionDimension)
        let oldest = isFull ? nextSlot : 0
        for row in 0..<count { batch.slots[row] = (oldest + row) % capacity }
        gather(into: &batch)
        return batch
    }

    // MARK: - Row copies (the only unsafe pointer work in Replay)

    /// Every column of a transition with its row width.
    var columns: [(WritableKeyPath<TransitionBatch, [Float]>, Int)] {
        [
            (\.observations, observationDimension), (\.actions, actionDimension), (\.rewards, 1),
            (\.terminations, 1), (\.nextObservations, observationDimension),
        ]
    }

    private static func check(_ field: String, _ actual: Int, _ expected: Int) throws(ReplayError) {
        if actual != expected { throw .shapeMismatch(field: field, expected: expected, actual: actual) }
    }

    /// Copies `rows` contiguous rows of `width` floats from row `from` of `source` to row `at` of `destination`.
    private static func copyRows(
        _ source: [Float], from sourceRow: Int, into destination: inout [Float], at destinationRow: Int,
        rows: Int, width: Int
    ) {
        let n = rows * width
        precondition(sourceRow * width + n <= source.count && destinationRow * width + n <= destination.count)
        source.withUnsafeBufferPointer { src in
            destination.withUnsafeMutableBufferPointer { dst in
                (dst.baseAddress! + destinationRow * width).update(from: src.baseAddress! + sourceRow * width, count: n)
            }
        }
    }

    /// Copies row `slots[i]` of `source` to row `i` of `destination`, for every i.
    private static func gatherRows(_ source: [Float], slots: [Int], into destination: inout [Float], width: Int) {
        precondition(slots.count * width == destination.count)
        source.withUnsafeBufferPointer { src in
            destination.withUnsafeMutableBufferPointer { dst in
                for (row, slot) in slots.enumerated() {
                    (dst.baseAddress! + row * width).update(from: src.baseAddress! + slot * width, count: width)
                }
            }
        }
    }
}
