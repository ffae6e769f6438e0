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

/// A swift-log `Logger` whose repeated messages go through a `RepeatLimiter`.
///
/// `warning("connect", "cannot reach tcp://…: connection refused")` logs the first
/// occurrence, then one line per burst with "(N times since the last report)".
public struct RateLimitedLogger: Sendable {
    public var logger: Logger
    private var limiter: RepeatLimiter

    public init(_ logger: Logger, every: Int = 100, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.limiter = RepeatLimiter(every: every, interval: interval)
    }

    /// Logs `message` at `level` unless the key's limiter holds it back.
    public mutating func log(
        _ level: Logger.Level, _ key: String, _ message: @autoclosure () -> String,
        now: ContinuousClock.Instant = .now
    ) {
        guard let count = limiter.record(key, now: now) else { return }
        let text = count > 1 ? "\(message()) (\(count) times since the last report)" : message()
        logger.log(level: level, "\(text)")
    }

    public mutating func warning(_ key: String, _ message: @autoclosure () -> String) {
        log(.warning, key, message())
    }
}

/// A `RepeatLimiter` for one kind of message and where its lines go, for code that several
/// threads share (the learner's handlers, the gateway): one key, shared behind a `Mutex`.
public final class RateLimitedReporter: Sendable {
    private let limiter: Mutex<RepeatLimiter>
    private let log: @Sendable (String) -> Void

    public init(every: Int = .max, interval: Duration = .seconds(10), log: @escaping @Sendable (String) -> Void) {
        limiter = Mutex(RepeatLimiter(every: every, interval: interval))
        self.log = log
    }

    /// Logs `message` if the limiter lets it through, with how many occurrences it stands for.
    public func report(_ message: @autoclosure () -> String) {
        guard let count = limiter.withLock({ $0.record("", now: .now) }) else { return }
        log(message() + (count > 1 ? " (\(count) times since the last report)" : ""))
    }
}
