import Foundation
import Synchronization

/// The ledger behind one lock, with the condition the training thread sleeps on.
///
/// Handlers (on the REP contexts' tasks) and the training thread (a dedicated
/// thread) only ever hold the lock for bookkeeping, never during an update or a
/// network wait. NSCondition gives the training thread a timed wait, so an idle
/// learner sleeps instead of spinning.
final class LearnerCore: @unchecked Sendable {
    private let condition = NSCondition()
    private var ledger: IngestLedger
    /// Runs after each `wait` of the training thread, outside the lock: its drain and the samples
    /// it took since may have made room for simulator transitions.
    private let afterWait = Mutex<(@Sendable () -> Void)?>(nil)

    init(ledger: IngestLedger) {
        self.ledger = ledger
    }

    /// Calls `body` after each of the training thread's waits (the simulator server retries the
    /// requests that wait for room).
    func onWaitEnded(_ body: @escaping @Sendable () -> Void) {
        afterWait.withLock { $0 = body }
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

    /// Waits until `ready` holds or `timeout` passes, then runs `body`, all under the lock.
    func wait<T>(timeout: Duration, until ready: (IngestLedger) -> Bool,
                 then body: (inout IngestLedger) -> T) -> T {
        defer { afterWait.withLock { $0 }?() }
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds)
            + Double(timeout.components.attoseconds) * 1e-18)
        while !ready(ledger) {
            if !condition.wait(until: deadline) { break }
        }
        return body(&ledger)
    }
}
