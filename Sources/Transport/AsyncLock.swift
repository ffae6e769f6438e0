import CNNG
import Synchronization

/// A first-come, first-served lock for async code.
///
/// Serialises the operations of one nng context: a REQ context must never
/// have a send and a receive pending at once (nng 1.5.2 crashes, nng issue
/// 1702), and a REP context's receive/reply pair is stateful. Waiting for
/// the lock is not cancellable; the holder's operation is, and it has the
/// socket's timeouts, so the wait ends when that operation does.
final class AsyncLock: Sendable {
    private struct State {
        var isLocked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    /// Runs `body` while holding the lock.
    func withLock<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        let acquired = state.withLock { state in
            if state.isLocked { return false }
            state.isLocked = true
            return true
        }
        if acquired { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquiredMeanwhile = state.withLock { state in
                if !state.isLocked {
                    state.isLocked = true
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if acquiredMeanwhile { continuation.resume() }
        }
    }

    private func release() {
        // Hand the lock straight to the next waiter, which keeps it locked.
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.isLocked = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// An nng context: independent protocol state on a shared socket.
///
/// Closed when the last reference goes away or on `close()`, exactly once.
final class ContextHandle: Sendable {
    /// Keeps the socket open while the context lives.
    let socket: Socket
    let raw: nng_ctx
    let lock = AsyncLock()
    private let isClosed = Atomic<Bool>(false)

    init(_ socket: Socket) throws(NNGError) {
        var raw = nng_ctx()
        try NNGError.check(nng_ctx_open(&raw, socket.handle))
        self.socket = socket
        self.raw = raw
    }

    deinit { close() }

    func close() {
        if isClosed.exchange(true, ordering: .acquiringAndReleasing) { return }
        nng_ctx_close(raw)
    }

    /// Sends `bytes` on this context (caller holds `lock`).
    func send(_ bytes: [UInt8], on io: AsyncIO) async throws {
        let raw = self.raw
        try await io.send(bytes, timeout: socket.options.sendTimeout.nngMillisecondsRoundedUp) { aio in
            socket.startIfOpen { nng_ctx_send(raw, aio) }
        }
    }

    /// Receives one message on this context (caller holds `lock`).
    func receive(on io: AsyncIO) async throws -> [UInt8] {
        let raw = self.raw
        return try await io.receive(timeout: socket.options.receiveTimeout.nngMillisecondsRoundedUp) { aio in
            socket.startIfOpen { nng_ctx_recv(raw, aio) }
        }
    }

    /// Receives one message and the id of the pipe it arrived on (caller holds `lock`).
    func receiveWithPipe(on io: AsyncIO) async throws -> (body: [UInt8], pipe: UInt32) {
        let raw = self.raw
        return try await io.receiveWithPipe(timeout: socket.options.receiveTimeout.nngMillisecondsRoundedUp) { aio in
            socket.startIfOpen { nng_ctx_recv(raw, aio) }
        }
    }
}
