import Foundation
import Synchronization

/// The ledger behind one lock, with the condition the training thread sleeps on.
///
/// Handlers (on the REP contexts' tasks) and the training thread (a dedicated
/// thread) only ever hold the lock for bookkeeping, never during an update or a
/// network wait. Every change the training thread waits for goes through
/// `withLedgerAndSignal`, so it sleeps until that event instead of polling.
// @unchecked: `ledger` is guarded by `condition`; Mutex has no condition variable for a thread to sleep on.
final class LearnerCore: @unchecked Sendable {
    private let condition = NSCondition()
    private var ledger: IngestLedger
    /// Runs after each `wait` of the training thread, outside the lock: its drain and the samples
    /// it took since may have made room for simulator transitions.
    private let afterWait = Mutex<WaitHook?>(nil)

    /// The hook in a struct: a bare closure stored in a generic `Mutex` is re-abstracted on every
    /// `withLock` (a thunk in, a thunk back out), so each wait would wrap it in two more thunks and
    /// calling it would grow slower for the whole run.
    private struct WaitHook: Sendable {
        let body: @Sendable () -> Void
    }

    init(ledger: IngestLedger) {
        self.ledger = ledger
    }

    /// Calls `body` after each of the training thread's waits (the simulator server retries the
    /// requests that wait for room).
    func onWaitEnded(_ body: @escaping @Sendable () -> Void) {
        afterWait.withLock { $0 = WaitHook(body: body) }
    }

    /// Runs `body` on the ledger under the lock.
    func withLedger<T>(_ body: (inout IngestLedger) throws -> T) rethrows -> T {
        condition.lock()
        defer { condition.unlock() }
        return try body(&ledger)
    }

    /// Runs `body` under the lock and wakes the training thread afterwards.
    func withLedgerAndSignal<T>(_ body: (inout IngestLedger) throws -> T) rethrows -> T {
        condition.lock()
        defer {
            condition.signal()
            condition.unlock()
        }
        return try body(&ledger)
    }

    /// Sleeps until `ready` holds, then runs `body`, all under the lock.
    func wait<T>(until ready: (IngestLedger) -> Bool, then body: (inout IngestLedger) -> T) -> T {
        defer { afterWait.withLock { $0 }?.body() }
        condition.lock()
        defer { condition.unlock() }
        while !ready(ledger) { condition.wait() }
        return body(&ledger)
    }

    /// Sleeps until `ready` holds or `deadline` passes, then runs `body`, all under the lock.
    func wait<T>(until ready: (IngestLedger) -> Bool, deadline: ContinuousClock.Instant,
                 then body: (inout IngestLedger) -> T) -> T {
        defer { afterWait.withLock { $0 }?.body() }
        condition.lock()
        defer { condition.unlock() }
        // NSCondition counts in wall-clock time: the deadline is carried over once.
        let wallDeadline = Date().addingTimeInterval((deadline - ContinuousClock.now).seconds)
        while !ready(ledger) {
            if !condition.wait(until: wallDeadline) { break }
        }
        return body(&ledger)
    }
}
