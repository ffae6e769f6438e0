import CNNG

/// A REQ socket: sends requests and waits for the matching reply.
///
/// `request(_:)` uses one built-in context, so concurrent calls run one
/// after another; open more contexts with `makeContext()` to keep several
/// requests in flight on the same connection.
public final class RequestSocket: TransportSocket {
    public let socket: Socket
    private let defaultContext: RequestContext

    /// Opens a REQ socket; connect it with `dial(_:tls:)`.
    public init(options: SocketOptions = SocketOptions()) throws(NNGError) {
        socket = try Socket(.request, options: options)
        defaultContext = try RequestContext(socket)
    }

    /// Sends `request` and returns the reply, on the socket's built-in context.
    ///
    /// See `RequestContext.request(_:)`.
    public func request(_ request: [UInt8]) async throws -> [UInt8] {
        try await defaultContext.request(request)
    }

    /// A new context for requests that run concurrently with others.
    public func makeContext() throws(NNGError) -> RequestContext {
        try RequestContext(socket)
    }
}

/// One REQ context: one outstanding request at a time.
public final class RequestContext: Sendable {
    private let context: ContextHandle

    init(_ socket: Socket) throws(NNGError) {
        context = try ContextHandle(socket)
    }

    /// Sends `request` and returns the reply.
    ///
    /// The send waits up to the socket's `sendTimeout` for a connection and
    /// the reply up to `receiveTimeout`. Calls on one context are serialised:
    /// nng 1.5.2 crashes if a REQ context has a send and a receive pending at
    /// once, so both halves run on one aio, one after the other. nng resends
    /// the request after `resendInterval` and after reconnecting, so the
    /// server may see it more than once.
    ///
    /// - Throws: `NNGError` (e.g. `.timedOut`, `.closed`), or
    ///   `CancellationError` if the task was cancelled while waiting.
    public func request(_ request: [UInt8]) async throws -> [UInt8] {
        try await context.lock.withLock {
            let io = try AsyncIO()
            try await context.send(request, on: io)
            return try await context.receive(on: io)
        }
    }

    /// Closes the context; a pending request fails with `.closed`.
    public func close() { context.close() }
}
