/// The part of an HTTP/1.x request the metrics endpoint looks at.
///
/// Probes and scrapers send `GET /path HTTP/1.1` and a few headers; we read
/// the request line, check that the head is well formed and ignore the
/// headers' values. Bodies are never read: GET and HEAD have none.
struct HTTPRequestHead: Equatable, Sendable {
    var method: String
    /// The path without its query string.
    var path: String
    var version: String

    /// Why a request head was refused.
    enum ParseError: Error, Equatable {
        /// Not an HTTP/1.x request head (400).
        case malformed
        /// No end of headers within the size limit (413).
        case tooLarge
    }

    /// Parses a complete head, or says that more bytes are needed (nil).
    ///
    /// - Parameter maxBytes: the most bytes a head may have, its final blank line included.
    static func parse(_ bytes: [UInt8], maxBytes: Int) -> Result<HTTPRequestHead, ParseError>? {
        guard let end = endOfHead(bytes) else {
            return bytes.count >= maxBytes ? .failure(.tooLarge) : nil
        }
        guard end <= maxBytes else { return .failure(.tooLarge) }
        let head = bytes[..<end]
        // Header lines must be visible ASCII or whitespace; a NUL or other control byte is an attack or garbage.
        guard head.allSatisfy({ $0 == 0x0D || $0 == 0x0A || $0 == 0x09 || (0x20..<0x7F).contains($0) }) else {
            return .failure(.malformed)
        }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let requestLine = lines[0].split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3 else { return .failure(.malformed) }
        let method = String(requestLine[0])
        let target = requestLine[1]
        let version = String(requestLine[2])
        guard !method.isEmpty, method.allSatisfy({ $0.isASCII && $0.isUppercase }),
              target.hasPrefix("/"), version == "HTTP/1.1" || version == "HTTP/1.0"
        else { return .failure(.malformed) }
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[..<colon].contains(" ") else { return .failure(.malformed) }
        }
        let path = String(target.prefix { $0 != "?" })
        return .success(HTTPRequestHead(method: method, path: path, version: version))
    }

    /// The index just past the blank line that ends the head, if the bytes hold one.
    static func endOfHead(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 3..<bytes.count
        where bytes[index] == 0x0A && bytes[index - 1] == 0x0D && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D {
            return index - 3
        }
        return nil
    }
}

/// A complete response; every response closes its connection.
struct HTTPResponse: Sendable {
    var status: Int
    var reason: String
    var contentType = "text/plain; charset=utf-8"
    var extraHeaders: [(String, String)] = []
    var body: [UInt8]

    init(status: Int, reason: String, contentType: String = "text/plain; charset=utf-8",
         extraHeaders: [(String, String)] = [], body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.contentType = contentType
        self.extraHeaders = extraHeaders
        self.body = body
    }

    /// A short plain-text response, body ending in a newline.
    static func text(_ status: Int, _ reason: String, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, reason: reason, body: Array((body + "\n").utf8))
    }

    /// The bytes on the wire; `includeBody` is false for HEAD (Content-Length still counts the body).
    func serialized(includeBody: Bool) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        head += "Content-Type: \(contentType)\r\n"
        head += "Content-Length: \(body.count)\r\n"
        for (name, value) in extraHeaders { head += "\(name): \(value)\r\n" }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + (includeBody ? body : [])
    }

}
