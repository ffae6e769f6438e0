import Foundation

/// The ledger behind one lock, with the condition the training thread sleeps on.
///
/// Handlers (on the REP contexts' tasks) and the training thread (a dedicated
/// thread) only ever hold the lock for bookkeeping, never during an update or a
/// network wait. NSCondition gives the training thread a timed wait, so an idle
/// learner sleeps instead of spinning.
final class LearnerCore: @unchecked Sendable {
    private let condition = NSCondition()
    private var ledger: IngestLedger

    init(ledger: IngestLedger) {
        self.ledger = ledger
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
