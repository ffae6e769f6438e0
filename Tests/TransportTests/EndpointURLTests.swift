import Testing
@testable import Transport

@Suite struct EndpointURLTests {
    // MARK: - Loopback

    @Test(arguments: [
        "tcp://127.0.0.1:5555", "tcp://127.8.9.10:1", "tcp://localhost:5555", "tcp://LOCALHOST:1",
        "tcp://[::1]:5555", "tcp6://[::1]:5555", "tls+tcp://localhost:443", "ws://127.0.0.1:80/path",
        "tcp://[::ffff:127.0.0.1]:9", "ipc:///tmp/meow.sock", "inproc://learner",
    ])
    func loopbackURLs(url: String) {
        #expect(EndpointURL.isLoopback(url))
    }

    @Test(arguments: [
        "tcp://0.0.0.0:5555", "tcp://*:5555", "tcp://:5555", "tcp://192.168.1.2:5555",
        "tcp://128.0.0.1:1", "tcp://[::]:5555", "tcp://[::2]:5555", "tcp://example.com:5555",
        "tls+tcp://10.0.0.1:443", "tcp://localhost.example.com:1", "localhost:5555", "udp://127.0.0.1:1",
        "tcp://[::1:5555",
    ])
    func nonLoopbackURLs(url: String) {
        #expect(!EndpointURL.isLoopback(url))
    }

    // MARK: - TLS to an IP literal

    @Test(arguments: [
        "tls+tcp://127.0.0.1:7700", "tls+tcp://10.0.0.1:443", "tls+tcp://[::1]:7700", "TLS+TCP://192.0.2.7:1",
        "tls+tcp4://127.0.0.1:1", "wss://127.0.0.1:443/meow",
    ])
    func tlsDialsToIPLiteralsAreRecognised(url: String) {
        #expect(EndpointURL.isTLSToIPLiteral(url))
    }

    @Test(arguments: [
        "tls+tcp://localhost:7700", "tls+tcp://learner.example.org:443", "tcp://127.0.0.1:7700", "ws://127.0.0.1:80",
        "ipc:///tmp/meow.sock", "tls+tcp://[::1:7700",
    ])
    func otherURLsAreNotTLSToAnIPLiteral(url: String) {
        #expect(!EndpointURL.isTLSToIPLiteral(url))
    }
}
