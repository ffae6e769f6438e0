import CNNG
import Synchronization

/// One `nng_aio` bridged to Swift concurrency: the only place Transport
/// touches raw aio and message pointers.
///
/// Why this shape:
/// - Blocking nng calls inside Swift tasks can deadlock a 2-core machine (the
///   cooperative pool is 2 threads), so every send and receive is an aio
///   whose C completion callback resumes a continuation.
/// - The callback is `@convention(c)` and gets an `Unmanaged` `Completion`.
///   `AsyncIO` keeps that box alive until `nng_aio_free` has returned (which
///   waits for a running callback), so the callback never drops the last
///   reference and never frees the aio it is running on.
/// - nng calls the callback exactly once per started operation, and only the
///   callback resumes the continuation, so it resumes exactly once; a task
///   cancellation only asks nng to finish early (`nng_aio_cancel`).
/// - One operation at a time: callers own an `AsyncIO` for the duration of
///   one logical exchange (a REQ request is a send then a receive on the
///   same aio) and never share it between tasks.
final class AsyncIO {
    /// The continuation slot the C callback completes.
    private final class Completion: Sendable {
        let continuation = Mutex<CheckedContinuation<Void, Never>?>(nil)

        func resume() {
            continuation.withLock { $0.take() }?.resume()
        }
    }

    /// The aio pointer, handed to the cancellation handler (a `@Sendable`
    /// closure); nng's aio functions are thread-safe.
    private struct Handle: @unchecked Sendable {
        let raw: OpaquePointer
    }

    private let aio: Handle
    private let completion: Completion

    init() throws(NNGError) {
        let completion = Completion()
        var raw: OpaquePointer?
        try NNGError.check(nng_aio_alloc(&raw, { box in
            guard let box else { return }
            Unmanaged<Completion>.fromOpaque(box).takeUnretainedValue().resume()
        }, Unmanaged.passUnretained(completion).toOpaque()))
        guard let raw else { throw .outOfMemory }
        self.completion = completion
        aio = Handle(raw: raw)
    }

    deinit {
        // Stops any operation and waits for its callback, then frees.
        nng_aio_free(aio.raw)
    }

    /// Sends `bytes` with `start` (e.g. `nng_ctx_send`), waiting at most `timeout`.
    ///
    /// `start` returns false when it did not start the operation (the socket is closing).
    func send(
        _ bytes: [UInt8], timeout: nng_duration, start: (OpaquePointer) -> Bool
    ) async throws {
        let message = try Self.makeMessage(bytes)
        nng_aio_set_msg(aio.raw, message)
        do {
            try await perform(timeout: timeout, start: start)
        } catch {
            // On failure the message still belongs to us.
            nng_aio_set_msg(aio.raw, nil)
            nng_msg_free(message)
            throw error
        }
    }

    /// Receives one message with `start` (e.g. `nng_ctx_recv`) and returns its body.
    func receive(timeout: nng_duration, start: (OpaquePointer) -> Bool) async throws -> [UInt8] {
        try await receiveWithPipe(timeout: timeout, start: start).body
    }

    /// Receives one message and returns its body with the id of the pipe (connection) it came on.
    func receiveWithPipe(timeout: nng_duration, start: (OpaquePointer) -> Bool) async throws
        -> (body: [UInt8], pipe: UInt32) {
        nng_aio_set_msg(aio.raw, nil)
        try await perform(timeout: timeout, start: start)
        guard let message = nng_aio_get_msg(aio.raw) else { throw NNGError.protocolError }
        nng_aio_set_msg(aio.raw, nil)
        defer { nng_msg_free(message) }
        let pipe = nng_pipe_id(nng_msg_get_pipe(message))
        return (Self.body(of: message), UInt32(bitPattern: pipe))
    }

    /// Starts one operation and suspends until its callback.
    ///
    /// Throws `CancellationError` if the task was cancelled and nng stopped
    /// the operation because of it, `NNGError.closed` if `start` did not start it,
    /// otherwise `NNGError` for a failure.
    private func perform(timeout: nng_duration, start: (OpaquePointer) -> Bool) async throws {
        try Task.checkCancellation()
        let aio = self.aio
        nng_aio_set_timeout(aio.raw, timeout)
        var started = true
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                completion.continuation.withLock { $0 = continuation }
                guard start(aio.raw) else {
                    // Nothing started, so no callback will come: resume here.
                    started = false
                    completion.resume()
                    return
                }
                // A cancellation that arrived before `start` found nothing to
                // cancel; the task's flag is already set in that case.
                if Task.isCancelled { nng_aio_cancel(aio.raw) }
            }
        } onCancel: {
            nng_aio_cancel(aio.raw)
        }
        guard started else { throw NNGError.closed }
        let result = nng_aio_result(aio.raw)
        if result == 0 { return }
        let error = NNGError(code: result)
        if error == .canceled, Task.isCancelled { throw CancellationError() }
        throw error
    }

    // MARK: - Messages

    /// A new nng message holding a copy of `bytes`.
    static func makeMessage(_ bytes: [UInt8]) throws(NNGError) -> OpaquePointer {
        var message: OpaquePointer?
        try NNGError.check(nng_msg_alloc(&message, bytes.count))
        guard let message else { throw .outOfMemory }
        if !bytes.isEmpty {
            bytes.withUnsafeBytes { source in
                nng_msg_body(message).copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
        }
        return message
    }

    /// The message body copied once into a Swift array.
    static func body(of message: OpaquePointer) -> [UInt8] {
        let count = nng_msg_len(message)
        guard count > 0, let body = nng_msg_body(message) else { return [] }
        return [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            buffer.baseAddress!.initialize(from: body.assumingMemoryBound(to: UInt8.self), count: count)
            initialized = count
        }
    }
}
