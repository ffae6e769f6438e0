import Synchronization

/// Lets a repeated message through once, then at most once per `interval`, with how many were held back.
public struct RateLimitedLog: Sendable {
    public let interval: Duration
    private var last: ContinuousClock.Instant?
    private var held = 0

    public init(interval: Duration) {
        self.interval = interval
    }

    /// nil: stay quiet; otherwise log now, and the count is the occurrences this report covers (1 the first time).
    public mutating func admit(now: ContinuousClock.Instant) -> Int? {
        held += 1
        if let last, now - last < interval { return nil }
        last = now
        defer { held = 0 }
        return held
    }
}

/// A `RateLimitedLog` and where its lines go, for code that several threads share.
public final class RateLimitedReporter: Sendable {
    private let limiter: Mutex<RateLimitedLog>
    private let log: @Sendable (String) -> Void

    public init(interval: Duration = .seconds(10), log: @escaping @Sendable (String) -> Void) {
        limiter = Mutex(RateLimitedLog(interval: interval))
        self.log = log
    }

    /// Logs `message` if the limiter lets it through, with how many occurrences it stands for.
    public func report(_ message: @autoclosure () -> String) {
        guard let count = limiter.withLock({ $0.admit(now: .now) }) else { return }
        log(message() + (count > 1 ? " (\(count) times since the last report)" : ""))
    }
}
