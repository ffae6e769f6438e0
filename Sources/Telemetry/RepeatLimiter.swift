import Logging
import Synchronization

/// Decides which occurrences of a repeated event reach the log.
///
/// A failure that repeats every few milliseconds (a learner that is down, an unstable
/// simulation, a peer sending bad frames) must be visible without flooding the log. The
/// first occurrence of each key is logged at once; after that one line stands for every
/// `every` occurrences or every `interval`, whichever comes first, and carries the count
/// of occurrences it stands for. A plain value with the clock passed in, so its
/// behaviour is tested without waiting.
public struct RepeatLimiter: Sendable {
    /// Occurrences that one logged line may stand for at most.
    public let every: Int
    /// Longest time between two logged lines of the same key while it keeps occurring.
    public let interval: Duration

    private struct Pending: Sendable {
        var count: Int
        var lastLogged: ContinuousClock.Instant
    }

    private var pending: [String: Pending] = [:]

    public init(every: Int = 100, interval: Duration = .seconds(10)) {
        precondition(every >= 1, "RepeatLimiter: every must be at least 1")
        self.every = every
        self.interval = interval
    }

    /// Records one occurrence of `key`; returns the occurrences a line logged now stands
    /// for (1 for the first), or nil when this one is held back.
    public mutating func record(_ key: String, now: ContinuousClock.Instant) -> Int? {
        guard var entry = pending[key] else {
            pending[key] = Pending(count: 0, lastLogged: now)
            return 1
        }
        entry.count += 1
        if entry.count >= every || now - entry.lastLogged >= interval {
            pending[key] = Pending(count: 0, lastLogged: now)
            return entry.count
        }
        pending[key] = entry
        return nil
    }

    /// Occurrences of `key` recorded but not yet logged.
    public func heldBack(_ key: String) -> Int { pending[key]?.count ?? 0 }
}

/// A swift-log `Logger` whose repeated messages go through one `RepeatLimiter`, shared by threads.
///
/// `warning("connect", "cannot reach tcp://…: connection refused")` logs the first occurrence of
/// the key at once, then one line per `every` occurrences or per `interval`, whichever comes first,
/// ending in "(N times since the last report)". The limiter sits behind a `Mutex`, held only to
/// count, so the learner's handlers, the gateway's tasks and a training thread can share one.
public final class RateLimitedLogger: Sendable {
    public let logger: Logger
    private let limiter: Mutex<RepeatLimiter>

    public init(_ logger: Logger, every: Int = 100, interval: Duration = .seconds(10)) {
        self.logger = logger
        limiter = Mutex(RepeatLimiter(every: every, interval: interval))
    }

    /// Logs `message` at `level` unless the limiter holds back this occurrence of `key`.
    ///
    /// A level the logger filters out is neither counted nor built.
    /// - Returns: true when a line was written.
    @discardableResult
    public func log(
        _ level: Logger.Level, _ key: String, _ message: @autoclosure () -> String,
        metadata: @autoclosure () -> Logger.Metadata? = nil, now: ContinuousClock.Instant = .now
    ) -> Bool {
        guard level >= logger.logLevel, let count = limiter.withLock({ $0.record(key, now: now) }) else { return false }
        let text = count > 1 ? "\(message()) (\(count) times since the last report)" : message()
        logger.log(level: level, "\(text)", metadata: metadata())
        return true
    }

    @discardableResult
    public func warning(_ key: String, _ message: @autoclosure () -> String, now: ContinuousClock.Instant = .now)
        -> Bool {
        log(.warning, key, message(), now: now)
    }

    @discardableResult
    public func error(_ key: String, _ message: @autoclosure () -> String, now: ContinuousClock.Instant = .now)
        -> Bool {
        log(.error, key, message(), now: now)
    }
}
