/// The part of an HTTP/1.x request the metrics endpoint looks at.
///
/// Probes and scrapers send `GET /path HTTP/1.1` and a few headers; we read
/// the request line and the `Authorization` header, check that the rest of
/// the head is well formed and ignore the other headers' values. Bodies are
/// never read: GET and HEAD have none.
///
/// The head comes from the network, so nothing in it is trusted: its size,
/// the request line's length and the number of header lines are bounded, and
/// any byte sequence yields a head, a refusal or a request for more bytes,
/// never a trap (the fuzz test in `HTTPRequestHeadFuzzTests` holds it to that).
struct HTTPRequestHead: Equatable, Sendable {
    var method: String
    /// The path without its query string.
    var path: String
    var version: String
    /// The `Authorization` header's value, blanks around it removed; nil when the request has none.
    var authorization: String?

    init(method: String, path: String, version: String, authorization: String? = nil) {
        self.method = method
        self.path = path
        self.version = version
        self.authorization = authorization
    }

    /// How much of a head the parser accepts.
    struct Limits: Equatable, Sendable {
        /// The most bytes a head may have, its final blank line included (431 beyond).
        var maxBytes = 8 << 10
        /// The longest request line, its line break excluded (414 beyond).
        var maxRequestLineBytes = 2 << 10
        /// The most header lines after the request line (431 beyond).
        var maxHeaderCount = 64
    }

    /// Why a request head was refused.
    enum ParseError: Error, Equatable {
        /// Not an HTTP/1.x request head (400).
        case malformed
        /// The request line is longer than the limit (414).
        case requestLineTooLong
        /// No end of headers within the size limit, or too many header lines (431).
        case tooLarge
    }

    /// Parses a complete head, or says that more bytes are needed (nil).
    ///
    /// - Parameter searchFrom: where to start looking for the blank line that ends the head;
    ///   a caller that feeds a growing buffer passes how far it had looked, so a client that
    ///   sends one byte at a time does not make each call rescan the whole buffer.
    static func parse(_ bytes: [UInt8], limits: Limits, searchFrom: Int = 0) -> Result<HTTPRequestHead, ParseError>? {
        guard let end = endOfHead(bytes, from: searchFrom) else {
            if bytes.count > limits.maxRequestLineBytes + 1, firstLineBreak(bytes) == nil {
                return .failure(.requestLineTooLong)
            }
            return bytes.count >= limits.maxBytes ? .failure(.tooLarge) : nil
        }
        guard end + 4 <= limits.maxBytes else { return .failure(.tooLarge) }
        let head = bytes[..<end]
        // Header lines must be visible ASCII, tab, or CR LF pairs; a NUL, another control byte or a
        // lone CR or LF is an attack or garbage.
        for index in head.indices {
            let byte = head[index]
            switch byte {
            case 0x09, 0x20 ..< 0x7F:
                continue
            case 0x0D where index + 1 < end && head[index + 1] == 0x0A:
                continue
            case 0x0A where index > 0 && head[index - 1] == 0x0D:
                continue
            default:
                return .failure(.malformed)
            }
        }
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        guard let firstLine = lines.first else { return .failure(.malformed) }
        guard firstLine.utf8.count <= limits.maxRequestLineBytes else { return .failure(.requestLineTooLong) }
        guard lines.count - 1 <= limits.maxHeaderCount else { return .failure(.tooLarge) }
        let requestLine = firstLine.split(separator: " ", omittingEmptySubsequences: false)
        guard requestLine.count == 3 else { return .failure(.malformed) }
        let method = String(requestLine[0])
        let target = requestLine[1]
        let version = String(requestLine[2])
        guard !method.isEmpty, method.allSatisfy({ $0.isASCII && $0.isUppercase }),
              target.hasPrefix("/"), version == "HTTP/1.1" || version == "HTTP/1.0"
        else { return .failure(.malformed) }
        var authorization: String?
        for line in lines.dropFirst() {
            // An empty line or a folded continuation (leading blank) has no place inside a head.
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex,
                  !line[..<colon].contains(where: { $0 == " " || $0 == "\t" }) else { return .failure(.malformed) }
            guard line[..<colon].lowercased() == "authorization" else { continue }
            // Two credentials would leave it unclear which one was meant.
            guard authorization == nil else { return .failure(.malformed) }
            authorization = String(line[line.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            while let last = authorization?.last, last == " " || last == "\t" { authorization?.removeLast() }
        }
        let path = String(target.prefix { $0 != "?" && $0 != "#" })
        return .success(HTTPRequestHead(method: method, path: path, version: version, authorization: authorization))
    }

    /// The index where the blank line that ends the head begins (its CR LF CR LF), if the bytes hold one.
    ///
    /// - Parameter from: the first index at which the four bytes may start.
    static func endOfHead(_ bytes: [UInt8], from: Int = 0) -> Int? {
        let first = max(3, from + 3)
        guard first < bytes.count else { return nil }
        for index in first ..< bytes.count
        where bytes[index] == 0x0A && bytes[index - 1] == 0x0D && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D {
            return index - 3
        }
        return nil
    }

    /// The index of the first LF, if any.
    private static func firstLineBreak(_ bytes: [UInt8]) -> Int? {
        bytes.firstIndex(of: 0x0A)
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
