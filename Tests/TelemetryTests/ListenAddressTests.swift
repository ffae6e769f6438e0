import Testing
@testable import Telemetry

struct ListenAddressTests {
    // MARK: - Accepted forms

    static let accepted: [(text: String, host: String, port: Int)] = [
        ("127.0.0.1:9100", "127.0.0.1", 9100),
        (":9100", "127.0.0.1", 9100),
        ("localhost:0", "127.0.0.1", 0),
        ("0.0.0.0:65535", "0.0.0.0", 65535),
        ("[::1]:9100", "::1", 9100),
        ("[::]:80", "::", 80),
    ]

    @Test(arguments: accepted)
    func parses(text: String, host: String, port: Int) throws {
        #expect(try ListenAddress(parsing: text) == ListenAddress(host: host, port: port))
    }

    @Test func descriptionBracketsIPv6() {
        #expect(ListenAddress(host: "::1", port: 1).description == "[::1]:1")
        #expect(ListenAddress(port: 9100).description == "127.0.0.1:9100")
    }

    // MARK: - Refused forms

    @Test(arguments: [
        "9100", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:http",
        "::1:9100", "[::1]9100", "[::1", "example.com:9100", "300.1.1.1:9100",
    ])
    func refuses(text: String) {
        #expect {
            _ = try ListenAddress(parsing: text)
        } throws: { error in
            guard case .invalidListenAddress(text, _)? = error as? TelemetryError else { return false }
            return true
        }
    }
}
