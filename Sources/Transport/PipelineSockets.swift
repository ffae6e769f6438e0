import CNNG

/// Sends `bytes` on a whole socket (no context).
private func sendOnSocket(_ socket: Socket, _ bytes: [UInt8]) async throws {
    let handle = socket.handle
    try await AsyncIO().send(bytes, timeout: socket.options.sendTimeout.nngMillisecondsRoundedUp) { aio in
        socket.startIfOpen { nng_send_aio(handle, aio) }
    }
}

/// Receives one message on a whole socket (no context).
private func receiveOnSocket(_ socket: Socket) async throws -> [UInt8] {
    let handle = socket.handle
    return try await AsyncIO().receive(timeout: socket.options.receiveTimeout.nngMillisecondsRoundedUp) { aio in
        socket.startIfOpen { nng_recv_aio(handle, aio) }
    }
}

/// A PUSH socket: hands each message to one connected PULL peer.
///
/// Delivery is at most once: closing drops queued messages.
public final class PushSocket: TransportSocket {
    public let socket: Socket

    /// Opens a PUSH socket.
    public init(options: SocketOptions = SocketOptions()) throws(NNGError) {
        socket = try Socket(.push, options: options)
    }

    /// Queues `message` for a peer, waiting up to `sendTimeout` for room or a peer.
    public func send(_ message: [UInt8]) async throws {
        try await sendOnSocket(socket, message)
    }
}

/// A PULL socket: receives messages from any connected PUSH peer.
public final class PullSocket: TransportSocket {
    public let socket: Socket

    /// Opens a PULL socket.
    public init(options: SocketOptions = SocketOptions()) throws(NNGError) {
        socket = try Socket(.pull, options: options)
    }

    /// Waits for the next message (up to `receiveTimeout`).
    public func receive() async throws -> [UInt8] {
        try await receiveOnSocket(socket)
    }
}

/// A PAIR (v1) socket: one peer, messages both ways.
public final class PairSocket: TransportSocket {
    public let socket: Socket

    /// Opens a PAIR v1 socket.
    public init(options: SocketOptions = SocketOptions()) throws(NNGError) {
        socket = try Socket(.pair, options: options)
    }

    /// Sends `message` to the peer, waiting up to `sendTimeout`.
    public func send(_ message: [UInt8]) async throws {
        try await sendOnSocket(socket, message)
    }

    /// Waits for the next message from the peer (up to `receiveTimeout`).
    public func receive() async throws -> [UInt8] {
        try await receiveOnSocket(socket)
    }
}
