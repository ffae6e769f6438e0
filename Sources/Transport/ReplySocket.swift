import CNNG

/// A REP socket: receives requests and sends each reply back to its sender.
///
/// One context answers one request at a time; a server runs several
/// contexts (`serve(contexts:handler:)`) so slow requests do not hold up
/// the others.
public final class ReplySocket: TransportSocket {
    public let socket: Socket

    /// Opens a REP socket; bind it with `listen(_:tls:)`.
    public init(options: SocketOptions = SocketOptions()) throws(NNGError) {
        socket = try Socket(.reply, options: options)
    }

    /// A new context with its own receive/reply state.
    public func makeContext() throws(NNGError) -> ReplyContext {
        try ReplyContext(socket)
    }

    /// Answers requests with `handler` on `contexts` concurrent contexts.
    ///
    /// Returns when the socket is closed; throws `CancellationError` when the
    /// task is cancelled, and `NNGError.invalidArgument` if `contexts` < 1.
    /// A receive timeout or a failed reply (the client went away) only skips
    /// that request: the client resends if it still wants an answer.
    public func serve(
        contexts: Int, handler: @escaping @Sendable ([UInt8]) async -> [UInt8]
    ) async throws {
        guard contexts > 0 else { throw NNGError.invalidArgument }
        let workers = try (0..<contexts).map { _ throws(NNGError) in try makeContext() }
        defer { workers.forEach { $0.close() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask { try await worker.serve(handler) }
            }
            try await group.waitForAll()
        }
    }

    /// Answers requests with `handler`, which also learns the pipe each request came on.
    ///
    /// A pipe is one connection of one peer: nng numbers pipes uniquely for the socket's
    /// lifetime, so a server can tie requests that name no peer (ACTION_REQUEST) to the
    /// peer that said HELLO on the same connection. A peer that reconnects gets a new pipe.
    public func serve(
        contexts: Int, pipeHandler handler: @escaping @Sendable (_ request: [UInt8], _ pipe: UInt32) async -> [UInt8]
    ) async throws {
        guard contexts > 0 else { throw NNGError.invalidArgument }
        let workers = try (0..<contexts).map { _ throws(NNGError) in try makeContext() }
        defer { workers.forEach { $0.close() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask { try await worker.serveWithPipe(handler) }
            }
            try await group.waitForAll()
        }
    }
}

/// One REP context: receive a request, then reply to it.
public final class ReplyContext: Sendable {
    private let context: ContextHandle

    init(_ socket: Socket) throws(NNGError) {
        context = try ContextHandle(socket)
    }

    /// Waits for the next request (up to the socket's `receiveTimeout`).
    ///
    /// A request received but never answered is dropped by the next receive.
    public func receive() async throws -> [UInt8] {
        try await context.lock.withLock { try await context.receive(on: AsyncIO()) }
    }

    /// Sends the reply to the request last received on this context.
    ///
    /// If that client has disconnected the reply is silently discarded.
    public func reply(_ reply: [UInt8]) async throws {
        try await context.lock.withLock { try await context.send(reply, on: AsyncIO()) }
    }

    /// Closes the context; pending operations fail with `.closed`.
    public func close() { context.close() }

    /// Receives and answers requests until the socket or context closes.
    func serve(_ handler: @Sendable ([UInt8]) async -> [UInt8]) async throws {
        while true {
            do {
                let request = try await receive()
                try await reply(await handler(request))
            } catch NNGError.closed {
                return
            } catch is NNGError {
                // A timeout or failed reply affects one request only.
                continue
            }
        }
    }

    /// `serve`, handing the handler the pipe id of each request too.
    func serveWithPipe(_ handler: @Sendable ([UInt8], UInt32) async -> [UInt8]) async throws {
        while true {
            do {
                let (request, pipe) = try await context.lock.withLock {
                    try await context.receiveWithPipe(on: AsyncIO())
                }
                try await reply(await handler(request, pipe))
            } catch NNGError.closed {
                return
            } catch is NNGError {
                continue
            }
        }
    }
}
