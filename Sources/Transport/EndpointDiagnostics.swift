import CNNG
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Failed connection attempts of one dialer or listener, as nng counts them.
///
/// nng 1.5.2 reports a failed connect or TLS handshake to nobody: the dialer backs off and
/// tries again, the listener drops the connection before it becomes a pipe. It does count
/// them, per endpoint and per kind, in its statistics; these are those counters. Reading
/// them takes a snapshot of every statistic, so callers read them when something already
/// went wrong (a request that found no peer) or on a timer they already have.
public struct ConnectionFailures: Sendable, Equatable {
    /// Certificate checks that failed in a TLS handshake (nng's "auth" counter).
    public var authentication = 0
    /// Connections the peer's host refused ("refused"; dialers only).
    public var refused = 0
    /// Peers that broke the SP or TLS protocol ("proto").
    public var protocolErrors = 0
    /// Attempts that timed out ("timeout").
    public var timeouts = 0
    /// Connections closed or reset during the handshake ("disconnect").
    public var disconnects = 0
    /// Anything else ("other"): a plain tcp:// dial to a TLS listener ends here.
    public var other = 0

    public init() {}

    /// All failures together.
    public var total: Int { authentication + refused + protocolErrors + timeouts + disconnects + other }

    /// The failures counted since `earlier`.
    public func since(_ earlier: ConnectionFailures) -> ConnectionFailures {
        var d = ConnectionFailures()
        d.authentication = authentication - earlier.authentication
        d.refused = refused - earlier.refused
        d.protocolErrors = protocolErrors - earlier.protocolErrors
        d.timeouts = timeouts - earlier.timeouts
        d.disconnects = disconnects - earlier.disconnects
        d.other = other - earlier.other
        return d
    }

    /// The most telling kind of failure among these, in words; nil when there is none.
    ///
    /// A failed certificate check says the most, so it wins over the others.
    public var reason: String? {
        if authentication > 0 {
            return "the TLS handshake failed: the certificate was rejected (it is not signed by the trusted CA, "
                + "or it does not carry the expected server name)"
        }
        if protocolErrors > 0 { return "the peer does not speak the expected protocol (TLS on one side only?)" }
        if other > 0 {
            return "the connection closed during the handshake (a plain tcp:// dial to a tls+tcp:// listener, "
                + "or the other way round, ends so)"
        }
        if disconnects > 0 { return "the connection closed during the handshake" }
        if refused > 0 { return "the connection was refused (nothing listens there)" }
        if timeouts > 0 { return "connecting timed out" }
        return nil
    }

    /// The counters nng keeps under `endpoint` in a statistics snapshot.
    init(statistics endpoint: OpaquePointer) {
        var child = nng_stat_child(endpoint)
        while let stat = child {
            let value = Int(clamping: nng_stat_value(stat))
            switch String(cString: nng_stat_name(stat)) {
            case "auth": authentication = value
            case "refused": refused = value
            case "proto": protocolErrors = value
            case "timeout": timeouts = value
            case "disconnect": disconnects = value
            case "other": other = value
            default: break
            }
            child = nng_stat_next(stat)
        }
    }
}

/// The failure counters of the endpoint `kind` ("dialer" or "listener") with nng id `id`, from
/// a fresh statistics snapshot; nil where nng keeps none.
///
/// The tree is walked by hand: nng 1.5.2's `nng_stat_find_dialer` returns the first dialer of
/// the process whatever id it is given.
private func endpointFailures(kind: String, id: Int32) -> ConnectionFailures? {
    var snapshot: OpaquePointer?
    guard nng_stats_get(&snapshot) == 0, let snapshot else { return nil }
    defer { nng_stats_free(snapshot) }
    func find(_ node: OpaquePointer) -> OpaquePointer? {
        if String(cString: nng_stat_name(node)) == kind {
            var child = nng_stat_child(node)
            while let stat = child {
                if String(cString: nng_stat_name(stat)) == "id" { return nng_stat_value(stat) == UInt64(id) ? node : nil }
                child = nng_stat_next(stat)
            }
            return nil
        }
        var child = nng_stat_child(node)
        while let stat = child {
            if let found = find(stat) { return found }
            child = nng_stat_next(stat)
        }
        return nil
    }
    return find(snapshot).map(ConnectionFailures.init(statistics:))
}

extension Dialer {
    /// The dialer's failed attempts so far; nil where this nng keeps no statistics.
    public var failures: ConnectionFailures? {
        endpointFailures(kind: "dialer", id: nng_dialer_id(raw))
    }
}

extension Listener {
    /// Connections the listener dropped before they became pipes (failed TLS handshakes
    /// included); nil where this nng keeps no statistics.
    ///
    /// nng 1.5.2 gives a listener no peer address and no reason beyond these counters.
    public var failures: ConnectionFailures? {
        endpointFailures(kind: "listener", id: nng_listener_id(raw))
    }
}

// MARK: - Pipe events

/// A connection that became a pipe (its handshakes done), or one that went away.
public struct PipeEvent: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case connected
        case disconnected
    }

    public var kind: Kind
    /// nng's pipe id, as `ReplySocket`'s pipe handlers see it.
    public var pipe: UInt32
    /// The peer's address ("192.0.2.7:50412"), when the transport knows one.
    public var remoteAddress: String?
}

/// The handler nng calls back, kept alive by the socket that registered it.
final class PipeEventHandler: Sendable {
    let handle: @Sendable (PipeEvent) -> Void

    init(_ handle: @escaping @Sendable (PipeEvent) -> Void) { self.handle = handle }
}

extension Socket {
    /// Calls `handler` on nng's thread for every pipe added to or removed from this socket.
    ///
    /// A pipe exists only once a connection finished its handshakes, so a failed TLS handshake
    /// never shows here (see `Listener.failures`). The handler must return quickly. Call it
    /// once, before listening or dialing; a later call replaces the handler.
    public func onPipeEvent(_ handler: @escaping @Sendable (PipeEvent) -> Void) throws(NNGError) {
        let box = PipeEventHandler(handler)
        let context = Unmanaged.passUnretained(box).toOpaque()
        let callback: nng_pipe_cb = { pipe, event, argument in
            guard let argument else { return }
            let handler = Unmanaged<PipeEventHandler>.fromOpaque(argument).takeUnretainedValue()
            let kind: PipeEvent.Kind = event == NNG_PIPE_EV_REM_POST ? .disconnected : .connected
            handler.handle(PipeEvent(kind: kind, pipe: UInt32(bitPattern: nng_pipe_id(pipe)), remoteAddress: remoteAddress(of: pipe)))
        }
        pipeEventHandler.withLock { $0 = box }
        try NNGError.check(nng_pipe_notify(handle, NNG_PIPE_EV_ADD_POST, callback, context))
        try NNGError.check(nng_pipe_notify(handle, NNG_PIPE_EV_REM_POST, callback, context))
    }
}

/// "host:port" of a TCP pipe's peer; nil for other transports or a pipe already gone.
private func remoteAddress(of pipe: nng_pipe) -> String? {
    var address = nng_sockaddr()
    guard nng_pipe_get_addr(pipe, NNG_OPT_REMADDR, &address) == 0 else { return nil }
    switch Int32(address.s_family) {
    case Int32(NNG_AF_INET.rawValue):
        var v4 = in_addr(s_addr: address.s_in.sa_addr)
        var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        guard inet_ntop(AF_INET, &v4, &text, socklen_t(text.count)) != nil else { return nil }
        return "\(cText(text)):\(UInt16(bigEndian: address.s_in.sa_port))"
    case Int32(NNG_AF_INET6.rawValue):
        var bytes = address.s_in6.sa_addr
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let ok = withUnsafeBytes(of: &bytes) { inet_ntop(AF_INET6, $0.baseAddress, &text, socklen_t(text.count)) != nil }
        guard ok else { return nil }
        return "[\(cText(text))]:\(UInt16(bigEndian: address.s_in6.sa_port))"
    default:
        return nil
    }
}

/// The text of a NUL-terminated buffer.
private func cText(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
