import CNNG

/// An error reported by nng, or by Transport on nng's behalf.
///
/// nng reports failures as small integer codes; the common ones get a Swift
/// case so callers can `catch NNGError.timedOut` without knowing the numbers,
/// and everything else keeps its code in `.other`. `description` carries
/// `nng_strerror`'s text so logs read the same as nng's own tools.
public enum NNGError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The operation's deadline passed (`NNG_ETIMEDOUT`): no peer, or no reply in time.
    case timedOut
    /// The socket, context, dialer or listener was closed (`NNG_ECLOSED`).
    case closed
    /// The operation was cancelled inside nng (`NNG_ECANCELED`).
    ///
    /// A Swift task cancellation surfaces as `CancellationError` instead.
    case canceled
    /// The remote end refused the connection (`NNG_ECONNREFUSED`).
    case connectionRefused
    /// The connection was reset by the peer (`NNG_ECONNRESET`).
    case connectionReset
    /// The connection was aborted (`NNG_ECONNABORTED`).
    case connectionAborted
    /// The connection was shut down (`NNG_ECONNSHUT`).
    case connectionShutdown
    /// A message exceeded a size limit (`NNG_EMSGSIZE`).
    ///
    /// Note that a *received* message over `SocketOptions.maxMessageSize` is
    /// not reported anywhere: nng silently closes that connection.
    case messageTooLarge
    /// The address is already bound by another listener (`NNG_EADDRINUSE`).
    case addressInUse
    /// The URL or address is malformed or unsupported (`NNG_EADDRINVAL`).
    case invalidAddress
    /// An argument was invalid (`NNG_EINVAL`), including options Transport rejects.
    case invalidArgument
    /// The protocol does not support the operation (`NNG_ENOTSUP`).
    case notSupported
    /// The object is in the wrong state for the operation (`NNG_ESTATE`).
    case invalidState
    /// The peer violated the protocol (`NNG_EPROTO`).
    case protocolError
    /// The destination cannot be reached (`NNG_EUNREACHABLE`).
    case unreachable
    /// A TLS or other cryptographic failure (`NNG_ECRYPTO`).
    case cryptoFailure
    /// The peer could not be authenticated, e.g. a certificate check failed (`NNG_EPEERAUTH`).
    case peerAuthentication
    /// A file (certificate, key, CA bundle) does not exist (`NNG_ENOENT`).
    case notFound
    /// Permission was denied (`NNG_EPERM`).
    case permissionDenied
    /// nng ran out of memory (`NNG_ENOMEM`).
    case outOfMemory
    /// Any other nng code, kept verbatim (including system and transport errors).
    case other(code: Int32)

    /// The Swift case for an nng error code.
    public init(code: Int32) {
        switch UInt32(bitPattern: code) {
        case NNG_ETIMEDOUT.rawValue: self = .timedOut
        case NNG_ECLOSED.rawValue: self = .closed
        case NNG_ECANCELED.rawValue: self = .canceled
        case NNG_ECONNREFUSED.rawValue: self = .connectionRefused
        case NNG_ECONNRESET.rawValue: self = .connectionReset
        case NNG_ECONNABORTED.rawValue: self = .connectionAborted
        case NNG_ECONNSHUT.rawValue: self = .connectionShutdown
        case NNG_EMSGSIZE.rawValue: self = .messageTooLarge
        case NNG_EADDRINUSE.rawValue: self = .addressInUse
        case NNG_EADDRINVAL.rawValue: self = .invalidAddress
        case NNG_EINVAL.rawValue: self = .invalidArgument
        case NNG_ENOTSUP.rawValue: self = .notSupported
        case NNG_ESTATE.rawValue: self = .invalidState
        case NNG_EPROTO.rawValue: self = .protocolError
        case NNG_EUNREACHABLE.rawValue: self = .unreachable
        case NNG_ECRYPTO.rawValue: self = .cryptoFailure
        case NNG_EPEERAUTH.rawValue: self = .peerAuthentication
        case NNG_ENOENT.rawValue: self = .notFound
        case NNG_EPERM.rawValue: self = .permissionDenied
        case NNG_ENOMEM.rawValue: self = .outOfMemory
        default: self = .other(code: code)
        }
    }

    /// nng's numeric error code.
    public var code: Int32 {
        let value: nng_errno_enum
        switch self {
        case .timedOut: value = NNG_ETIMEDOUT
        case .closed: value = NNG_ECLOSED
        case .canceled: value = NNG_ECANCELED
        case .connectionRefused: value = NNG_ECONNREFUSED
        case .connectionReset: value = NNG_ECONNRESET
        case .connectionAborted: value = NNG_ECONNABORTED
        case .connectionShutdown: value = NNG_ECONNSHUT
        case .messageTooLarge: value = NNG_EMSGSIZE
        case .addressInUse: value = NNG_EADDRINUSE
        case .invalidAddress: value = NNG_EADDRINVAL
        case .invalidArgument: value = NNG_EINVAL
        case .notSupported: value = NNG_ENOTSUP
        case .invalidState: value = NNG_ESTATE
        case .protocolError: value = NNG_EPROTO
        case .unreachable: value = NNG_EUNREACHABLE
        case .cryptoFailure: value = NNG_ECRYPTO
        case .peerAuthentication: value = NNG_EPEERAUTH
        case .notFound: value = NNG_ENOENT
        case .permissionDenied: value = NNG_EPERM
        case .outOfMemory: value = NNG_ENOMEM
        case .other(let code): return code
        }
        return Int32(bitPattern: value.rawValue)
    }

    /// nng's own text for the code (`nng_strerror`).
    public var message: String {
        String(cString: nng_strerror(code))
    }

    public var description: String {
        "nng error \(code): \(message)"
    }

    /// Throws the error for a non-zero nng return code.
    @inline(__always)
    static func check(_ result: Int32) throws(NNGError) {
        if result != 0 { throw NNGError(code: result) }
    }
}
