import CNNG
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// TLS settings for a `tls+tcp://` listener or dialer.
///
/// A listener needs its own certificate and private key (PEM files); a
/// dialer normally needs the CA that signed the server's certificate and
/// the server name to check it against. With Debian's nng 1.5.2 (mbedTLS
/// 2.28) certificate checks fail when dialing an IP literal even if the
/// certificate lists the IP, and work with a DNS name: issue certificates for
/// a host name (e.g. `localhost`) and dial `tls+tcp://localhost:PORT`.
public struct TLSConfiguration: Sendable, Hashable {
    /// How strictly the peer's certificate is checked.
    public enum AuthMode: Sendable, Hashable {
        /// No check at all (encryption without authentication).
        case none
        /// Check a certificate if the peer presents one.
        case optional
        /// Require a valid certificate; otherwise the connection is closed.
        case required
    }

    /// PEM file with this side's certificate (chain); required for listeners.
    public var certificateFile: String?
    /// PEM file with the private key for `certificateFile`.
    public var keyFile: String?
    /// PEM file with the CA certificate(s) trusted to sign the peer's certificate.
    public var caFile: String?
    /// The name the server's certificate must carry (dialers); also sent as SNI.
    public var serverName: String?
    /// How the peer's certificate is checked.
    public var authMode: AuthMode

    /// A configuration with every field given explicitly.
    public init(
        certificateFile: String? = nil, keyFile: String? = nil, caFile: String? = nil,
        serverName: String? = nil, authMode: AuthMode
    ) {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.caFile = caFile
        self.serverName = serverName
        self.authMode = authMode
    }

    /// A listener's configuration: its certificate and key, clients not checked.
    public static func server(certificateFile: String, keyFile: String) -> TLSConfiguration {
        TLSConfiguration(certificateFile: certificateFile, keyFile: keyFile, authMode: .none)
    }

    /// A dialer's configuration: the CA to trust and the expected server name.
    public static func client(
        caFile: String?, serverName: String?, authMode: AuthMode = .required
    ) -> TLSConfiguration {
        TLSConfiguration(caFile: caFile, serverName: serverName, authMode: authMode)
    }
}

/// An allocated `nng_tls_config`, freed when this goes away.
///
/// Dialers and listeners take their own reference when the config is set on
/// them, so this only has to live until that call returns.
final class TLSConfigHandle {
    let raw: OpaquePointer

    init(_ configuration: TLSConfiguration, server: Bool) throws(NNGError) {
        var config: OpaquePointer?
        try NNGError.check(nng_tls_config_alloc(&config, server ? NNG_TLS_MODE_SERVER : NNG_TLS_MODE_CLIENT))
        guard let config else { throw .outOfMemory }
        raw = config
        let mode: nng_tls_auth_mode
        switch configuration.authMode {
        case .none: mode = NNG_TLS_AUTH_MODE_NONE
        case .optional: mode = NNG_TLS_AUTH_MODE_OPTIONAL
        case .required: mode = NNG_TLS_AUTH_MODE_REQUIRED
        }
        try NNGError.check(nng_tls_config_auth_mode(config, mode))
        if let ca = configuration.caFile {
            try NNGError.check(nng_tls_config_ca_file(config, ca))
        }
        if let name = configuration.serverName {
            try NNGError.check(nng_tls_config_server_name(config, name))
        }
        switch (configuration.certificateFile, configuration.keyFile) {
        case (nil, nil):
            if server { throw .invalidArgument }
        case (let certificate?, let key?):
            // nng's file helper wants certificate and key in one file; read
            // both PEM texts and hand them over instead.
            let certificatePEM = try readTextFile(certificate)
            let keyPEM = try readTextFile(key)
            try NNGError.check(nng_tls_config_own_cert(config, certificatePEM, keyPEM, nil))
        default:
            throw .invalidArgument
        }
    }

    deinit { nng_tls_config_free(raw) }
}

/// The contents of a small text file (a PEM certificate or key).
private func readTextFile(_ path: String) throws(NNGError) -> String {
    guard let file = fopen(path, "rb") else { throw .notFound }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
        if count == 0 { break }
        bytes.append(contentsOf: chunk[..<count])
        if bytes.count > 1 << 20 { throw .messageTooLarge }
    }
    if ferror(file) != 0 { throw .permissionDenied }
    return String(decoding: bytes, as: UTF8.self)
}
