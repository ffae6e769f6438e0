#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the metrics endpoint listens: a numeric IP address and a TCP port.
///
/// Parsed from the `--metrics-listen` flag: `127.0.0.1:9100`, `[::1]:9100`,
/// `0.0.0.0:9100`, `localhost:9100`, or `:9100` for loopback. Loopback is the
/// default because metrics reveal a run's configuration and progress; exposing
/// them to a cluster is a deliberate choice (`0.0.0.0`). Host names other than
/// `localhost` are refused rather than resolved, so start-up never waits on DNS.
public struct ListenAddress: Equatable, Sendable, CustomStringConvertible {
    /// The numeric host, without brackets (`127.0.0.1`, `::1`).
    public var host: String
    /// The TCP port; 0 asks the kernel for a free one.
    public var port: Int

    /// The default when the flag is given without a host.
    public static let loopbackHost = "127.0.0.1"

    public init(host: String = loopbackHost, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`, `[ipv6]:port` or `:port`.
    public init(parsing text: String) throws(TelemetryError) {
        let hostPart: Substring
        let portPart: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw .invalidListenAddress(text, reason: "expected [ipv6]:port")
            }
            hostPart = text[text.index(after: text.startIndex)..<close]
            portPart = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw .invalidListenAddress(text, reason: "expected host:port, e.g. 127.0.0.1:9100")
            }
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
            if hostPart.contains(":") {
                throw .invalidListenAddress(text, reason: "write IPv6 hosts in brackets, e.g. [::1]:9100")
            }
        }
        guard let port = Int(portPart), (0...65_535).contains(port) else {
            throw .invalidListenAddress(text, reason: "the port must be a number from 0 to 65535")
        }
        var host = hostPart.isEmpty ? Self.loopbackHost : String(hostPart)
        if host == "localhost" { host = Self.loopbackHost }
        guard Self.family(of: host) != nil else {
            throw .invalidListenAddress(text, reason: "the host must be a numeric IPv4 or IPv6 address or localhost")
        }
        self.init(host: host, port: port)
    }

    public var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Whether only this machine can reach the address: 127.0.0.0/8, `::1`, or IPv4 loopback mapped into IPv6.
    ///
    /// Anything else (`0.0.0.0`, `::`, an interface's address) is reachable from elsewhere, and the
    /// learner then requires a token for `/metrics` (docs/metrics.md).
    public var isLoopback: Bool {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, host, &v6) == 1 else { return false }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        if bytes[..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
        let mapped = bytes[..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        return mapped && bytes[12] == 127
    }

    /// `AF_INET` or `AF_INET6` for a numeric host, nil for anything else.
    static func family(of host: String) -> Int32? {
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return AF_INET }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 { return AF_INET6 }
        return nil
    }
}
