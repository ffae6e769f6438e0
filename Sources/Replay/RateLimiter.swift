/// Keeps sampling and inserting in a fixed ratio, after DeepMind Reverb's rate limiter.
///
/// Reverb's model: let D = inserts * samplesPerInsert - samples. Until the table
/// holds `minSizeToSample` items inserts are free and samples blocked. After that a
/// sample of n items may proceed while D - n >= minDiff, and an insert of n items
/// while (inserts + n) * samplesPerInsert - samples <= maxDiff. "Samples" count
/// sampled items, so a batch of B is n = B.
///
/// **One update per environment step.** With one actor inserting one transition
/// per step and `samplesPerInsert` = batch size B, each insert grants exactly B
/// sample items, i.e. one batch: past the minimum size the learner does exactly one
/// update of batch B per environment step, as single-process SAC/MEow loops do. The
/// error buffer only lets the two sides drift apart by that many items before one
/// of them waits.
///
/// A pure value with no threads and no clock: the learner asks `canSample` and
/// `canInsert`, records what it did, and reports how long callers waited so the
/// totals can go into metrics.
public struct RateLimiter: Sendable, Equatable {
    /// Sampled items allowed per inserted item, on average.
    public let samplesPerInsert: Double
    /// Items the table must hold before any sample is allowed.
    public let minSizeToSample: Int
    /// Sampling blocks when D would fall below this.
    public let minDiff: Double
    /// Inserting blocks when D would rise above this.
    public let maxDiff: Double

    /// Items inserted so far.
    public private(set) var inserts = 0
    /// Items sampled so far.
    public private(set) var samples = 0
    /// Items removed from the table so far (ring overwrites), so `inserts - deletes` is its size.
    public private(set) var deletes = 0

    /// Insert calls that had to wait, and their total wait.
    public private(set) var blockedInserts = 0
    public private(set) var insertWait: Duration = .zero
    /// Sample calls that had to wait, and their total wait.
    public private(set) var blockedSamples = 0
    public private(set) var sampleWait: Duration = .zero

    /// A limiter with an explicit error range, used as given (Reverb's tuple form).
    public init(samplesPerInsert: Double, minSizeToSample: Int, minDiff: Double, maxDiff: Double) {
        self.samplesPerInsert = samplesPerInsert
        self.minSizeToSample = minSizeToSample
        self.minDiff = minDiff
        self.maxDiff = maxDiff
    }

    /// Reverb's `SampleToInsertRatio` with a scalar error buffer.
    ///
    /// The range is centred on the offset `samplesPerInsert * minSizeToSample`, so
    /// the error counts only what happens after the warm-up fill: D starts at the
    /// offset the moment sampling becomes possible.
    public static func sampleToInsertRatio(
        samplesPerInsert: Double, minSizeToSample: Int, errorBuffer: Double
    ) -> RateLimiter {
        let offset = samplesPerInsert * Double(minSizeToSample)
        return RateLimiter(
            samplesPerInsert: samplesPerInsert, minSizeToSample: minSizeToSample,
            minDiff: offset - errorBuffer, maxDiff: offset + errorBuffer)
    }

    /// Reverb's `MinSize`: sampling waits for `minSizeToSample` items, then nothing is limited.
    public static func minSize(_ minSizeToSample: Int) -> RateLimiter {
        RateLimiter(
            samplesPerInsert: 1, minSizeToSample: minSizeToSample,
            minDiff: -Double.greatestFiniteMagnitude, maxDiff: Double.greatestFiniteMagnitude)
    }

    /// The items the table holds as far as the limiter knows.
    public var size: Int { inserts - deletes }

    /// The ratio error D = inserts * samplesPerInsert - samples.
    public var difference: Double { Double(inserts) * samplesPerInsert - Double(samples) }

    // MARK: - Admission

    /// Whether `n` items may be sampled now.
    public func canSample(_ n: Int = 1) -> Bool {
        precondition(n > 0, "sample at least one item")
        guard size >= minSizeToSample else { return false }
        return difference - Double(n) >= minDiff
    }

    /// Whether `n` items may be inserted now.
    public func canInsert(_ n: Int = 1) -> Bool {
        precondition(n > 0, "insert at least one item")
        // Until the minimum size is reached inserts are free.
        if size + n <= minSizeToSample { return true }
        return Double(inserts + n) * samplesPerInsert - Double(samples) <= maxDiff
    }

    // MARK: - Counting

    /// Counts `n` inserted items.
    public mutating func recordInsert(_ n: Int = 1) {
        inserts += n
    }

    /// Counts `n` sampled items (a batch of B is B items).
    public mutating func recordSample(_ n: Int = 1) {
        samples += n
    }

    /// Counts `n` items that left the table, e.g. those a full ring overwrote.
    public mutating func recordDelete(_ n: Int = 1) {
        deletes += n
    }

    /// Adds one insert call that waited `duration` for permission.
    public mutating func recordInsertBlocked(for duration: Duration) {
        blockedInserts += 1
        insertWait += duration
    }

    /// Adds one sample call that waited `duration` for permission.
    public mutating func recordSampleBlocked(for duration: Duration) {
        blockedSamples += 1
        sampleWait += duration
    }

    // MARK: - Validation

    /// Rejects settings under which inserting and sampling can block each other for good.
    ///
    /// `sampleBatchSize` is the n the learner passes to `canSample`; `capacity` is the
    /// replay capacity, when the limiter guards a bounded buffer. The rules follow
    /// Reverb's checks, extended from single-item samples to batches:
    /// - `samplesPerInsert` must be positive and finite, `minSizeToSample` at least 1;
    /// - the error range must be at least `2 * max(1, samplesPerInsert)` wide (Reverb)
    ///   and at least `samplesPerInsert + sampleBatchSize`: narrower, some D blocks an
    ///   insert of 1 (D > maxDiff - samplesPerInsert) and a sample of n (D < minDiff + n)
    ///   at once;
    /// - the range must contain the offset `samplesPerInsert * minSizeToSample`, D's
    ///   value when the minimum size is reached. Above it sampling cannot start there,
    ///   which Reverb rejects as a deadlock; below it (a warning in Reverb) the next
    ///   insert blocks until the sampler runs, which deadlocks a driver that cannot
    ///   sample while it waits to insert;
    /// - the buffer must be able to hold `minSizeToSample` items.
    public func validate(sampleBatchSize: Int = 1, capacity: Int? = nil) throws(RateLimiterError) {
        guard samplesPerInsert > 0, samplesPerInsert.isFinite else {
            throw .nonPositiveSamplesPerInsert(samplesPerInsert)
        }
        guard minSizeToSample >= 1 else { throw .minSizeTooSmall(minSizeToSample) }
        guard sampleBatchSize >= 1 else { throw .invalidSampleBatchSize(sampleBatchSize) }
        let width = maxDiff - minDiff
        let required = max(2 * max(1, samplesPerInsert), samplesPerInsert + Double(sampleBatchSize))
        guard width >= required else { throw .errorBufferTooNarrow(width: width, required: required) }
        let offset = samplesPerInsert * Double(minSizeToSample)
        guard minDiff <= offset else { throw .errorRangeAboveOffset(minDiff: minDiff, offset: offset) }
        guard maxDiff >= offset else { throw .errorRangeBelowOffset(maxDiff: maxDiff, offset: offset) }
        if let capacity, minSizeToSample > capacity {
            throw .minSizeAboveCapacity(minSizeToSample: minSizeToSample, capacity: capacity)
        }
    }
}

/// Rate limiter settings that could stall training, each with the change that fixes it.
public enum RateLimiterError: Error, Equatable, CustomStringConvertible {
    /// The ratio must be a positive, finite number.
    case nonPositiveSamplesPerInsert(Double)
    /// Sampling must wait for at least one item.
    case minSizeTooSmall(Int)
    /// The learner must sample at least one item at a time.
    case invalidSampleBatchSize(Int)
    /// The error range is narrower than an insert plus a sample can move D.
    case errorBufferTooNarrow(width: Double, required: Double)
    /// minDiff lies above the offset: sampling cannot start when min size is reached (Reverb rejects this).
    case errorRangeAboveOffset(minDiff: Double, offset: Double)
    /// maxDiff lies below the offset: inserts stop as soon as sampling may start.
    case errorRangeBelowOffset(maxDiff: Double, offset: Double)
    /// The buffer can never hold enough items to start sampling.
    case minSizeAboveCapacity(minSizeToSample: Int, capacity: Int)

    public var description: String {
        switch self {
        case let .nonPositiveSamplesPerInsert(value):
            "samples per insert must be positive and finite, got \(value)"
        case let .minSizeTooSmall(value):
            "min size to sample must be at least 1, got \(value)"
        case let .invalidSampleBatchSize(value):
            "sample batch size must be at least 1, got \(value)"
        case let .errorBufferTooNarrow(width, required):
            "the rate limiter's error range is \(width) wide but must be at least \(required) "
                + "(2 * max(1, samples per insert) and samples per insert + batch size); raise the error buffer"
        case let .errorRangeAboveOffset(minDiff, offset):
            "min diff \(minDiff) lies above samples per insert * min size to sample = \(offset), "
                + "so sampling cannot start when min size is reached; lower min diff"
        case let .errorRangeBelowOffset(maxDiff, offset):
            "max diff \(maxDiff) lies below samples per insert * min size to sample = \(offset), "
                + "so inserts block as soon as min size is reached; raise max diff"
        case let .minSizeAboveCapacity(minSize, capacity):
            "min size to sample \(minSize) exceeds the replay capacity \(capacity), so sampling could never start; "
                + "lower the min size or raise the capacity"
        }
    }
}
