import CNNG
import Synchronization

/// An open nng socket: the part every protocol shares (endpoints, close).
///
/// The protocol-specific types (`RequestSocket`, `ReplySocket`, ...) own one
/// and add their operations; `TransportSocket` forwards `listen`, `dial` and
/// `close` so callers rarely touch this type directly. The socket closes when
/// the last reference goes away; `close()` does it early. Closing drops any
/// queued, unsent messages (nng's behaviour), so PUSH/PULL and PAIR are
/// at-most-once: use REQ/REP where an acknowledgement matters.
public final class Socket: Sendable {
    /// The scalability protocol a socket speaks.
    public enum Kind: String, Sendable, Hashable {
        case request = "req0"
        case reply = "rep0"
        case push = "push0"
        case pull = "pull0"
        case pair = "pair1"
    }

    /// The protocol this socket speaks.
    public let kind: Kind
    /// The options applied when the socket was opened.
    public let options: SocketOptions
    let handle: nng_socket
    private let isClosed = Atomic<Bool>(false)
    /// True once `close` began. Operations start under this lock, so nng never sees a send or
    /// receive start while it closes the socket (nng 1.5.2 can panic on a destroyed mutex then).
    private let startGate = Mutex<Bool>(false)
    /// What `onPipeEvent` registered with nng; nng holds only a raw pointer to it.
    let pipeEventHandler = Mutex<PipeEventHandler?>(nil)

    init(_ kind: Kind, options: SocketOptions) throws(NNGError) {
        guard options.maxMessageSize > 0 else { throw .invalidArgument }
        var handle = nng_socket()
        switch kind {
        case .request: try NNGError.check(nng_req0_open(&handle))
        case .reply: try NNGError.check(nng_rep0_open(&handle))
        case .push: try NNGError.check(nng_push0_open(&handle))
        case .pull: try NNGError.check(nng_pull0_open(&handle))
        case .pair: try NNGError.check(nng_pair1_open(&handle))
        }
        do {
            try NNGError.check(nng_socket_set_size(handle, NNG_OPT_RECVMAXSZ, options.maxMessageSize))
            try NNGError.check(nng_socket_set_ms(handle, NNG_OPT_RECONNMINT,
                                                 options.reconnectMinimum.nngMillisecondsRoundedUp))
            try NNGError.check(nng_socket_set_ms(handle, NNG_OPT_RECONNMAXT,
                                                 options.reconnectMaximum.nngMillisecondsRoundedUp))
            // Only synchronous nng calls read these; set them so the socket
            // agrees with the per-operation aio timeouts Transport uses.
            try NNGError.check(nng_socket_set_ms(handle, NNG_OPT_RECVTIMEO,
                                                 options.receiveTimeout.nngMillisecondsRoundedUp))
            try NNGError.check(nng_socket_set_ms(handle, NNG_OPT_SENDTIMEO,
                                                 options.sendTimeout.nngMillisecondsRoundedUp))
            if kind == .request {
                try NNGError.check(nng_socket_set_ms(handle, NNG_OPT_REQ_RESENDTIME,
                                                     options.resendInterval.nngMillisecondsRoundedUp))
            }
        } catch {
            nng_close(handle)
            throw error
        }
        self.kind = kind
        self.options = options
        self.handle = handle
    }

    deinit { close() }

    /// Starts listening on `url` (`tcp://`, `ipc://`, `inproc://`, `tls+tcp://`, `ws://`).
    ///
    /// `tls` is required for `tls+tcp://` and must name this side's
    /// certificate and key. Binding happens before this returns, so
    /// `tcp://127.0.0.1:0` picks a free port that `Listener.port` reports.
    public func listen(_ url: String, tls: TLSConfiguration? = nil) throws(NNGError) -> Listener {
        var listener = nng_listener()
        try NNGError.check(nng_listener_create(&listener, handle, url))
        do {
            if let tls {
                let config = try TLSConfigHandle(tls, server: true)
                try NNGError.check(nng_listener_set_ptr(listener, NNG_OPT_TLS_CONFIG, UnsafeMutableRawPointer(config.raw)))
            }
            try NNGError.check(nng_listener_start(listener, 0))
        } catch {
            nng_listener_close(listener)
            throw error
        }
        return Listener(url: url, raw: listener)
    }

    /// Starts dialing `url` in the background and returns at once.
    ///
    /// nng connects, and reconnects after failures or drops with the
    /// socket's backoff, on its own threads; sends wait (up to their timeout)
    /// until a connection exists. A dial never blocks the caller's thread,
    /// which matters inside Swift's 2-thread cooperative pool. For
    /// `tls+tcp://`, dial a DNS name (see `TLSConfiguration`).
    public func dial(_ url: String, tls: TLSConfiguration? = nil) throws(NNGError) -> Dialer {
        var dialer = nng_dialer()
        try NNGError.check(nng_dialer_create(&dialer, handle, url))
        do {
            if let tls {
                let config = try TLSConfigHandle(tls, server: false)
                try NNGError.check(nng_dialer_set_ptr(dialer, NNG_OPT_TLS_CONFIG, UnsafeMutableRawPointer(config.raw)))
            }
            try NNGError.check(nng_dialer_start(dialer, Int32(NNG_FLAG_NONBLOCK)))
        } catch {
            nng_dialer_close(dialer)
            throw error
        }
        return Dialer(url: url, raw: dialer)
    }

    /// Closes the socket, its endpoints and contexts; pending operations fail with `.closed`.
    ///
    /// Messages queued but not yet sent are dropped. Closing twice is harmless.
    public func close() {
        if isClosed.exchange(true, ordering: .acquiringAndReleasing) { return }
        startGate.withLock { $0 = true }
        nng_close(handle)
    }

    /// Runs `start` (an aio operation's start, such as `nng_ctx_send`) unless the socket is
    /// closing; false without running it otherwise.
    func startIfOpen(_ start: () -> Void) -> Bool {
        startGate.withLock { closing in
            if closing { return false }
            start()
            return true
        }
    }
}

/// A listening endpoint of a socket.
public struct Listener: Sendable {
    /// The URL it listens on, as given.
    public let url: String
    let raw: nng_listener

    /// The TCP port actually bound (useful after listening on port 0); nil for non-TCP transports.
    public var port: Int? {
        var port: Int32 = 0
        guard nng_listener_get_int(raw, NNG_OPT_TCP_BOUND_PORT, &port) == 0 else { return nil }
        return Int(port)
    }

    /// Stops listening and closes the connections it accepted.
    public func close() { nng_listener_close(raw) }
}

/// A dialing endpoint of a socket; it keeps reconnecting until closed.
public struct Dialer: Sendable {
    /// The URL it dials, as given.
    public let url: String
    let raw: nng_dialer

    /// Stops dialing and closes its connection.
    public func close() { nng_dialer_close(raw) }
}

/// A protocol-specific socket: gives every one of them `listen`, `dial` and `close`.
public protocol TransportSocket: Sendable {
    /// The underlying socket.
    var socket: Socket { get }
}

extension TransportSocket {
    /// Starts listening on `url`; see `Socket.listen(_:tls:)`.
    @discardableResult
    public func listen(_ url: String, tls: TLSConfiguration? = nil) throws(NNGError) -> Listener {
        try socket.listen(url, tls: tls)
    }

    /// Starts dialing `url` in the background; see `Socket.dial(_:tls:)`.
    @discardableResult
    public func dial(_ url: String, tls: TLSConfiguration? = nil) throws(NNGError) -> Dialer {
        try socket.dial(url, tls: tls)
    }

    /// Closes the socket; see `Socket.close()`.
    public func close() { socket.close() }
}
