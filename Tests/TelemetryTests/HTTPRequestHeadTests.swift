import Testing
@testable import Telemetry

struct HTTPRequestHeadTests {
    private func parse(
        _ text: String, maxBytes: Int = 8192, maxRequestLineBytes: Int = 2048, maxHeaderCount: Int = 64
    ) -> Result<HTTPRequestHead, HTTPRequestHead.ParseError>? {
        let limits = HTTPRequestHead.Limits(
            maxBytes: maxBytes, maxRequestLineBytes: maxRequestLineBytes, maxHeaderCount: maxHeaderCount)
        return HTTPRequestHead.parse(Array(text.utf8), limits: limits)
    }

    // MARK: - Well-formed heads

    @Test func parsesRequestLineAndDropsTheQuery() throws {
        let head = try parse("GET /metrics?name[]=x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n")?.get()
        #expect(head == HTTPRequestHead(method: "GET", path: "/metrics", version: "HTTP/1.1"))
        #expect(try parse("HEAD /healthz HTTP/1.0\r\n\r\n")?.get().method == "HEAD")
    }

    @Test func authorizationIsKeptAndTrimmed() throws {
        let head = try parse("GET /metrics HTTP/1.1\r\nauthorization: \t Bearer abc \r\nHost: a\r\n\r\n")?.get()
        #expect(head?.authorization == "Bearer abc")
        #expect(try parse("GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n")?.get().authorization == nil)
        let twice = "GET /metrics HTTP/1.1\r\nAuthorization: Bearer a\r\nAuthorization: Bearer b\r\n\r\n"
        #expect(parse(twice) == .failure(.malformed), "two credentials are ambiguous")
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
        "\r\n\r\n", "GET /metrics HTTP/1.1\nHost: a\r\n\r\n", "GET /metrics HTTP/1.1\r\nHost: a\rb\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", "GET /metrics HTTP/1.1\r\nBad Name: a\r\n\r\n",
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

    @Test func tooManyHeaderLinesAreTooLarge() throws {
        let lines = (0 ..< 5).map { "X-\($0): y\r\n" }.joined()
        #expect(parse("GET / HTTP/1.1\r\n\(lines)\r\n", maxHeaderCount: 4) == .failure(.tooLarge))
        #expect(try parse("GET / HTTP/1.1\r\n\(lines)\r\n", maxHeaderCount: 5)?.get().path == "/")
    }

    @Test func longRequestLinesAreRefusedBeforeTheHeadEnds() {
        let line = "GET /" + String(repeating: "a", count: 100) + " HTTP/1.1"
        #expect(parse(line + "\r\n\r\n", maxRequestLineBytes: 64) == .failure(.requestLineTooLong))
        #expect(parse(line, maxRequestLineBytes: 64) == .failure(.requestLineTooLong), "no line break yet")
        #expect(parse(String(line.prefix(60)), maxRequestLineBytes: 64) == nil)
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
