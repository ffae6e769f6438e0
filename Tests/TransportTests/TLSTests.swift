import Foundation
import Testing
@testable import Transport

/// Whether the `openssl` command-line tool can be run.
private let opensslAvailable = commandSucceeds(["openssl", "version"])

@Suite(.enabled(if: opensslAvailable, "the openssl CLI is not installed; TLS tests need it to make certificates"), .ownExecutor)
struct TLSTests {
    /// A self-signed certificate for the DNS name `localhost` and its key.
    struct Credentials {
        var certificate: String
        var key: String
    }

    /// Makes a self-signed P-256 certificate with `openssl` in `directory`.
    func makeCredentials(in directory: URL, name: String) async throws -> Credentials {
        let certificate = directory.appendingPathComponent("\(name).crt").path
        let key = directory.appendingPathComponent("\(name).key").path
        let result = try await runProcess([
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
            "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
            "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
        ])
        try #require(result.status == 0, "openssl failed: \(result.errorOutput)")
        return Credentials(certificate: certificate, key: key)
    }

    // MARK: - tls+tcp

    @Test func requestReplyOverTLSWithTheRightCA() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let credentials = try await makeCredentials(in: directory, name: "server")

        let server = try ReplySocket()
        let url = try listenOnFreePort(
            server, scheme: "tls+tcp", host: "localhost",
            tls: .server(certificateFile: credentials.certificate, keyFile: credentials.key))
        let serving = startServer(server)

        let client = try RequestSocket(options: clientOptions())
        try client.dial(url, tls: .client(caFile: credentials.certificate, serverName: "localhost"))
        let request = testBytes(count: 3000, seed: 42)
        #expect(try await client.request(request) == Array(request.reversed()))

        client.close()
        server.close()
        try await serving.value
    }

    @Test func clientWithTheWrongCANeverConnects() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let credentials = try await makeCredentials(in: directory, name: "server")
        let impostor = try await makeCredentials(in: directory, name: "other")

        let server = try ReplySocket()
        let url = try listenOnFreePort(
            server, scheme: "tls+tcp", host: "localhost",
            tls: .server(certificateFile: credentials.certificate, keyFile: credentials.key))
        let serving = startServer(server)

        // The request cannot even be sent: every handshake fails verification.
        let client = try RequestSocket(options: SocketOptions(
            receiveTimeout: .milliseconds(500), sendTimeout: .milliseconds(500),
            reconnectMinimum: .milliseconds(20), reconnectMaximum: .milliseconds(100)))
        try client.dial(url, tls: .client(caFile: impostor.certificate, serverName: "localhost"))
        await #expect(throws: NNGError.timedOut) {
            _ = try await client.request([1, 2, 3])
        }

        client.close()
        server.close()
        try await serving.value
    }

    // MARK: - What each side can see of a failed handshake

    @Test func failedHandshakesAreCountedOnBothSides() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let credentials = try await makeCredentials(in: directory, name: "server")
        let impostor = try await makeCredentials(in: directory, name: "other")

        let server = try ReplySocket()
        let listener = try server.listen(
            "tls+tcp://localhost:0", tls: .server(certificateFile: credentials.certificate, keyFile: credentials.key))
        let port = try #require(listener.port)
        let serving = startServer(server)
        #expect(listener.failures?.total == 0)

        let client = try RequestSocket(options: SocketOptions(
            receiveTimeout: .milliseconds(300), sendTimeout: .milliseconds(300),
            reconnectMinimum: .milliseconds(20), reconnectMaximum: .milliseconds(50)))
        let dialer = try client.dial("tls+tcp://localhost:\(port)", tls: .client(caFile: impostor.certificate, serverName: "localhost"))
        await #expect(throws: NNGError.timedOut) {
            _ = try await client.request([1])
        }
        let dialed = try #require(dialer.failures)
        #expect(dialed.authentication > 0)
        #expect(dialed.reason?.contains("certificate was rejected") == true)
        #expect(try #require(listener.failures).total > 0)

        // A plain TCP dial to the TLS port fails too, and says so differently.
        let plain = try RequestSocket(options: SocketOptions(
            receiveTimeout: .milliseconds(300), sendTimeout: .milliseconds(300),
            reconnectMinimum: .milliseconds(20), reconnectMaximum: .milliseconds(50)))
        let plainDialer = try plain.dial("tcp://127.0.0.1:\(port)")
        await #expect(throws: NNGError.timedOut) {
            _ = try await plain.request([1])
        }
        let plainFailures = try #require(plainDialer.failures)
        #expect(plainFailures.total > 0 && plainFailures.authentication == 0, "\(plainFailures)")
        #expect(plainFailures.reason != nil)

        plain.close()
        client.close()
        server.close()
        try await serving.value
    }

    @Test func pipeEventsReportConnectionsWithTheirAddress() async throws {
        let directory = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let credentials = try await makeCredentials(in: directory, name: "server")

        let server = try ReplySocket()
        let (events, sink) = AsyncStream.makeStream(of: PipeEvent.self)
        try server.socket.onPipeEvent { sink.yield($0) }
        let url = try listenOnFreePort(
            server, scheme: "tls+tcp", host: "localhost",
            tls: .server(certificateFile: credentials.certificate, keyFile: credentials.key))
        let serving = startServer(server)

        let client = try RequestSocket()
        try client.dial(url, tls: .client(caFile: credentials.certificate, serverName: "localhost"))
        #expect(try await client.request([1, 2]) == [2, 1])
        client.close()

        var seen: [PipeEvent] = []
        for await event in events {
            seen.append(event)
            if event.kind == .disconnected { break }
        }
        #expect(seen.map(\.kind) == [.connected, .disconnected])
        #expect(seen.first?.remoteAddress?.hasPrefix("127.0.0.1:") == true)
        server.close()
        try await serving.value
    }

    // MARK: - Configuration errors

    @Test func listenerWithoutCertificateIsRejected() throws {
        let server = try ReplySocket()
        #expect(throws: NNGError.invalidArgument) {
            try server.listen("tls+tcp://localhost:0", tls: .client(caFile: nil, serverName: nil))
        }
        server.close()
    }

    @Test func missingCertificateFileIsReported() throws {
        let server = try ReplySocket()
        #expect(throws: NNGError.notFound) {
            try server.listen("tls+tcp://localhost:0", tls: .server(certificateFile: "/nonexistent.crt", keyFile: "/nonexistent.key"))
        }
        server.close()
    }
}
