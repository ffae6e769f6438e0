import Dispatch
import Foundation

/// A flag that asks a running loop to stop after its current step.
///
/// Set from a signal handler's dispatch queue and read by the training loop once per
/// step, so it is guarded by a lock (an uncontended lock costs tens of nanoseconds, far
/// below one environment step).
public final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var requested = false

    public init() {}

    /// Whether a stop was requested.
    public var isSet: Bool {
        lock.withLock { requested }
    }

    /// Requests a stop; returns whether one had already been requested.
    @discardableResult
    public func set() -> Bool {
        lock.withLock {
            defer { requested = true }
            return requested
        }
    }

    /// Routes `signals` (default SIGINT and SIGTERM) to this flag until the returned
    /// handlers are released.
    ///
    /// The first signal sets the flag so the loop can save the policy and flush metrics;
    /// a second one restores the default action and re-raises, so a user whose run hangs
    /// can still kill it with a second Ctrl-C.
    public func installSignalHandlers(_ signals: [Int32] = [SIGINT, SIGTERM]) -> SignalHandlers {
        let queue = DispatchQueue(label: "meow.signals")
        let sources = signals.map { number -> any DispatchSourceSignal in
            // The default action would end the process before the dispatch source runs.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [self] in
                if set() {
                    signal(number, SIG_DFL)
                    raise(number)
                }
            }
            source.resume()
            return source
        }
        return SignalHandlers(sources: sources, signals: signals)
    }
}

/// Installed signal handlers; `cancel()` gives the signals back their default action.
public final class SignalHandlers: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let signals: [Int32]

    init(sources: [any DispatchSourceSignal], signals: [Int32]) {
        self.sources = sources
        self.signals = signals
    }

    public func cancel() {
        for source in sources where !source.isCancelled {
            source.cancel()
        }
        for number in signals { signal(number, SIG_DFL) }
    }

    deinit {
        cancel()
    }
}
