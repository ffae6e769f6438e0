#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Facts about nng endpoint URLs that callers decide policy on.
public enum EndpointURL {
    /// Whether listening on `url` is reachable only from this machine.
    ///
    /// True for `ipc://` and `inproc://`, and for TCP-based URLs (`tcp://`,
    /// `tcp4://`, `tcp6://`, `tls+tcp://`, `ws://`, `wss://`) whose host is
    /// `localhost`, an address in 127.0.0.0/8, `::1`, or an IPv4-mapped
    /// loopback address. An empty or wildcard host (`tcp://:5555`,
    /// `tcp://*:5555`, `0.0.0.0`) binds every interface and is not loopback;
    /// anything unparsable is treated as not loopback, so a caller that
    /// refuses non-loopback binds without a token fails safe.
    public static func isLoopback(_ url: String) -> Bool {
        guard let schemeEnd = url.firstRange(of: "://") else { return false }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        if scheme == "ipc" || scheme == "inproc" || scheme == "abstract" { return true }
        guard let host = host(of: url) else { return false }
        return isLoopbackHost(host)
    }

    /// The host of a TCP-based URL ("localhost", "10.0.0.5", "::1" without brackets); nil for
    /// other schemes and unparsable URLs.
    public static func host(of url: String) -> String? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        let tcpSchemes: Set<String> = ["tcp", "tcp4", "tcp6", "tls+tcp", "tls+tcp4", "tls+tcp6", "ws", "wss", "ws4", "ws6", "wss4", "wss6"]
        guard tcpSchemes.contains(scheme) else { return nil }
        var authority = url[schemeEnd.upperBound...]
        if let slash = authority.firstIndex(of: "/") { authority = authority[..<slash] }
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            return String(authority[authority.index(after: authority.startIndex)..<close])
        } else if let colon = authority.lastIndex(of: ":") {
            return String(authority[..<colon])
        }
        return String(authority)
    }

    /// Whether `url` is a TLS URL (`tls+tcp://`, `wss://`) whose host is an IP address literal.
    ///
    /// nng 1.5.2 with mbedTLS 2.28 does not check a certificate's name when the dialled host
    /// is an IP literal and no server name is set, and cannot match an IP address in a
    /// certificate at all: a dialer of such a URL must name the server (a DNS name its
    /// certificate carries), or the name goes unchecked.
    public static func isTLSToIPLiteral(_ url: String) -> Bool {
        guard let schemeEnd = url.firstRange(of: "://") else { return false }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme.hasPrefix("tls+") || scheme.hasPrefix("wss"), let host = host(of: url) else { return false }
        return isIPLiteral(host)
    }

    /// Whether `host` is an IPv4 or IPv6 address literal rather than a name.
    static func isIPLiteral(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }

    /// Whether a host name or address literal is a loopback address.
    static func isLoopbackHost(_ host: String) -> Bool {
        if host.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 {
            return UInt32(bigEndian: v4.s_addr) >> 24 == 127
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            let bytes = withUnsafeBytes(of: v6) { Array($0) }
            if bytes[..<15].allSatisfy({ $0 == 0 }) && bytes[15] == 1 { return true }
            let mappedPrefix: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff]
            return Array(bytes[..<12]) == mappedPrefix && bytes[12] == 127
        }
        return false
    }
}
