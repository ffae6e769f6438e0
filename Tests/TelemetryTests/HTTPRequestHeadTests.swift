import Testing
@testable import Telemetry

struct HTTPRequestHeadTests {
    private func parse(_ text: String, maxBytes: Int = 8192) -> Result<HTTPRequestHead, HTTPRequestHead.ParseError>? {
        HTTPRequestHead.parse(Array(text.utf8), maxBytes: maxBytes)
    }

    // MARK: - Well-formed heads

    @Test func parsesRequestLineAndDropsTheQuery() throws {
        let head = try parse("GET /metrics?name[]=x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n")?.get()
        #expect(head == HTTPRequestHead(method: "GET", path: "/metrics", version: "HTTP/1.1"))
        #expect(try parse("HEAD /healthz HTTP/1.0\r\n\r\n")?.get().method == "HEAD")
    }

    @Test func incompleteHeadAsksForMoreBytes() {
        #expect(parse("GET /metrics HTTP/1.1\r\nHost: a\r\n") == nil)
        #expect(parse("") == nil)
    }

    // MARK: - Refusals

    @Test(arguments: [
        "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n", "get /metrics HTTP/1.1\r\n\r\n",
        "GET metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n", "GET /metrics HTTP/1.1\r\nNoColon\r\n\r\n",
        "GET /metrics HTTP/1.1\r\n: empty-name\r\n\r\n", "GET /m\u{0} HTTP/1.1\r\n\r\n", "GET /é HTTP/1.1\r\n\r\n",
        "\r\n\r\n",
    ])
    func malformedHeadsAreRefused(text: String) {
        #expect(parse(text) == .failure(.malformed))
    }

    @Test func headsOverTheLimitAreTooLarge() {
        let long = "GET /metrics HTTP/1.1\r\nX-Fill: " + String(repeating: "a", count: 100) + "\r\n\r\n"
        #expect(parse(long, maxBytes: 64) == .failure(.tooLarge))
        #expect(parse(String(long.prefix(70)), maxBytes: 64) == .failure(.tooLarge), "no end in sight")
        #expect(parse(long, maxBytes: long.utf8.count) != .failure(.tooLarge))
    }

    // MARK: - Responses

    @Test func responseCarriesLengthAndClose() {
        let bytes = HTTPResponse.text(200, "OK", "ok").serialized(includeBody: true)
        #expect(String(decoding: bytes, as: UTF8.self)
            == "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n")
        let head = HTTPResponse.text(200, "OK", "ok").serialized(includeBody: false)
        #expect(String(decoding: head, as: UTF8.self).hasSuffix("Content-Length: 3\r\nConnection: close\r\n\r\n"))
    }
}
