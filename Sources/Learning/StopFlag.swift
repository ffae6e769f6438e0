import Dispatch
import Foundation
import Synchronization

/// A flag that asks a running loop to stop after its current step.
///
/// A compute thread reads it once per step (`isSet`, one atomic load); async code that
/// must react to it awaits `wait()` instead of re-reading it on a timer.
public final class StopFlag: Sendable {
    private let requested = Atomic<Bool>(false)
    /// Tasks suspended in `wait()`, by a number that lets a cancelled one leave.
    private let waiters = Mutex<(next: Int, continuations: [Int: CheckedContinuation<Void, Never>])>((0, [:]))

    public init() {}

    /// Whether a stop was requested.
    public var isSet: Bool {
        requested.load(ordering: .acquiring)
    }

    /// Requests a stop and wakes every `wait()`; returns whether one had already been requested.
    @discardableResult
    public func set() -> Bool {
        if requested.exchange(true, ordering: .acquiringAndReleasing) { return true }
        // The flag is stored before the lock is taken: a waiter that registers after this
        // reads it as set under the lock and does not suspend.
        let woken = waiters.withLock { state in
            defer { state.continuations.removeAll() }
            return Array(state.continuations.values)
        }
        for continuation in woken { continuation.resume() }
        return false
    }

    /// Returns once a stop is requested, or at once if the calling task is cancelled.
    public func wait() async {
        let id = waiters.withLock { state -> Int in
            defer { state.next += 1 }
            return state.next
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = waiters.withLock { state -> Bool in
                    if isSet || Task.isCancelled { return true }
                    state.continuations[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            waiters.withLock { $0.continuations.removeValue(forKey: id) }?.resume()
        }
    }

    /// Routes `signals` (default SIGINT and SIGTERM) to this flag until the returned
    /// handlers are cancelled or released.
    ///
    /// The first signal sets the flag so the loop can save the policy and flush metrics;
    /// a second one restores the default action and re-raises, so a user whose run hangs
    /// can still kill it with a second Ctrl-C. Returns once every source is registered
    /// with the kernel, so a signal raised after the call reaches the flag.
    public func installSignalHandlers(_ signals: [Int32] = [SIGINT, SIGTERM]) -> SignalHandlers {
        let queue = DispatchQueue(label: "meow.signals")
        let registered = DispatchGroup()
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
            // Dispatch registers a source with the kernel on its own thread, after `resume()`.
            registered.enter()
            source.setRegistrationHandler { registered.leave() }
            source.resume()
            return source
        }
        // Until registration a signal would be ignored: return only once every source is registered.
        registered.wait()
        return SignalHandlers(sources: sources, signals: signals)
    }
}

/// Installed signal handlers; `cancel()` gives the signals back their default action.
public final class SignalHandlers: Sendable {
    // Dispatch sources are thread-safe; `cancel` may run on any thread, more than once.
    private let sources: [Source]
    private let signals: [Int32]

    /// A dispatch source, sendable because dispatch synchronises its cancellation itself.
    private struct Source: @unchecked Sendable {  // DispatchSourceSignal is not marked Sendable on Linux.
        let source: any DispatchSourceSignal
    }

    init(sources: [any DispatchSourceSignal], signals: [Int32]) {
        self.sources = sources.map(Source.init)
        self.signals = signals
    }

    public func cancel() {
        for entry in sources where !entry.source.isCancelled {
            entry.source.cancel()
        }
        for number in signals { signal(number, SIG_DFL) }
    }

    deinit {
        cancel()
    }
}
