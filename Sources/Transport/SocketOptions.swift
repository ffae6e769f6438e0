import CNNG

/// Options applied to every socket when it is opened.
///
/// `maxMessageSize` has no "unlimited" setting on purpose: nng's default is
/// unlimited and it allocates whatever length a peer's frame header claims
/// before reading the body, so one forged 8-byte header can make a process
/// allocate gigabytes (PROTOCOL.md section 1.1). Transport therefore always sets
/// `NNG_OPT_RECVMAXSZ`. A received message over the limit is not reported to
/// anyone: nng silently closes that one connection (a REQ peer then sees its
/// request time out, or resends after reconnecting).
///
/// Durations of `nil` mean "wait forever" (`NNG_DURATION_INFINITE`).
/// Timeouts are applied to each asynchronous operation explicitly, because
/// nng's aio operations ignore the socket's `NNG_OPT_RECVTIMEO` and
/// `NNG_OPT_SENDTIMEO`.
public struct SocketOptions: Sendable, Hashable {
    /// The default receive limit, 16 MiB: room for the largest policy
    /// weights (about 2 MiB) and big replay batches with a wide margin.
    public static let defaultMaxMessageSize = 16 << 20

    /// The largest message this socket accepts, in bytes, counting the
    /// protocol header (4 bytes for a REQ/REP request or reply). Must be > 0.
    public var maxMessageSize: Int
    /// How long a receive (or the reply half of a request) may wait.
    public var receiveTimeout: Duration?
    /// How long a send (or the send half of a request) may wait for a peer.
    public var sendTimeout: Duration?
    /// The first reconnect delay after a dropped or failed connection.
    public var reconnectMinimum: Duration
    /// The cap of the exponential reconnect backoff.
    ///
    /// Without it nng retries every `reconnectMinimum` forever (no backoff).
    public var reconnectMaximum: Duration
    /// REQ only: resend an unanswered request after this long (`nil`: never).
    ///
    /// REQ also resends whenever the connection drops, so a server may see a
    /// request twice: requests should be idempotent.
    public var resendInterval: Duration?

    /// Options with the defaults that suit loopback and LAN use.
    public init(
        maxMessageSize: Int = SocketOptions.defaultMaxMessageSize,
        receiveTimeout: Duration? = nil,
        sendTimeout: Duration? = nil,
        reconnectMinimum: Duration = .milliseconds(100),
        reconnectMaximum: Duration = .seconds(5),
        resendInterval: Duration? = .seconds(60)
    ) {
        self.maxMessageSize = maxMessageSize
        self.receiveTimeout = receiveTimeout
        self.sendTimeout = sendTimeout
        self.reconnectMinimum = reconnectMinimum
        self.reconnectMaximum = reconnectMaximum
        self.resendInterval = resendInterval
    }
}

extension Optional where Wrapped == Duration {
    /// nng's millisecond duration: `nil` is infinite; values are clamped to
    /// nng's 32-bit range and rounded up so a tiny timeout never becomes 0
    /// (which nng reads as "poll once").
    var nngMillisecondsRoundedUp: nng_duration {
        guard let self else { return nng_duration(NNG_DURATION_INFINITE) }
        return self.nngMillisecondsRoundedUp
    }
}

extension Duration {
    /// This duration in nng's whole milliseconds, rounded up (see `Optional<Duration>.nngMillisecondsRoundedUp`);
    /// not `Duration.milliseconds` (Telemetry), which keeps fractions.
    var nngMillisecondsRoundedUp: nng_duration {
        let (seconds, attoseconds) = components
        if seconds < 0 || (seconds == 0 && attoseconds <= 0) { return 0 }
        let millisecondAttos: Int64 = 1_000_000_000_000_000
        let fraction = (attoseconds + millisecondAttos - 1) / millisecondAttos
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        if overflow || scaled > Int64(Int32.max) - fraction { return Int32.max }
        return nng_duration(scaled + fraction)
    }
}
