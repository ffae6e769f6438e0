#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A loopback HTTP client for the endpoint tests, written against the socket API directly.
///
/// Independent of the server's `POSIXSocket` on purpose, and free of URLSession
/// (which would add retries, keep-alive and its own parsing between the test
/// and the bytes the server sent).
struct RawHTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: String
}

enum HTTPClientError: Error {
    case connectFailed(Int32)
    case noResponse(String)
}

/// Sends `request` verbatim to 127.0.0.1:`port` and reads until the server closes.
///
/// - Parameter hangUp: close our sending side after the request, as a client that is done talking.
func sendRaw(_ request: [UInt8], port: Int, hangUp: Bool = false, timeoutSeconds: Int = 5) throws -> [UInt8] {
    let fd = try connectLoopback(port: port, timeoutSeconds: timeoutSeconds)
    defer { close(fd) }
    sendBytes(request, on: fd)
    if hangUp { shutdown(fd, Int32(SHUT_WR)) }
    return receiveUntilClosed(fd)
}

/// A blocking TCP socket connected to 127.0.0.1:`port`, its reads and writes bounded by `timeoutSeconds`.
func connectLoopback(port: Int, timeoutSeconds: Int = 5) throws -> Int32 {
    #if canImport(Glibc)
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let fd = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard fd >= 0 else { throw HTTPClientError.connectFailed(errno) }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else {
        let code = errno
        close(fd)
        throw HTTPClientError.connectFailed(code)
    }
    return fd
}

/// Sends `bytes` on `fd`; a peer that went away is not an error here (the test reads what came back).
func sendBytes(_ bytes: [UInt8], on fd: Int32) {
    #if canImport(Glibc)
    let flags = Int32(MSG_NOSIGNAL)
    #else
    let flags: Int32 = 0
    #endif
    _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, flags) }
}

/// Reads until the peer closes (or the socket's timeout passes).
func receiveUntilClosed(_ fd: Int32) -> [UInt8] {
    var response: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        response += buffer[..<count]
    }
    return response
}

/// Sends a GET (or another method) and parses the response head.
func httpRequest(_ path: String, method: String = "GET", headers: [String] = [], port: Int) throws -> RawHTTPResponse {
    let extra = headers.map { $0 + "\r\n" }.joined()
    let request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: telemetry-tests\r\n\(extra)\r\n"
    return try parseResponse(try sendRaw(Array(request.utf8), port: port))
}
func parseResponse(_ bytes: [UInt8]) throws -> RawHTTPResponse {
    let text = String(decoding: bytes, as: UTF8.self)
    guard let split = text.range(of: "\r\n\r\n") else { throw HTTPClientError.noResponse(text) }
    let headLines = text[..<split.lowerBound].components(separatedBy: "\r\n")
    let statusParts = headLines[0].split(separator: " ", maxSplits: 2)
    guard statusParts.count >= 2, statusParts[0] == "HTTP/1.1", let status = Int(statusParts[1]) else {
        throw HTTPClientError.noResponse(text)
    }
    var headers: [String: String] = [:]
    for line in headLines.dropFirst() {
        guard let colon = line.firstIndex(of: ":") else { continue }
        headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
    }
    return RawHTTPResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
}
