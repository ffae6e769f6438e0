#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A minimal HTTP/1.1 responder for probes and scrapes, on a thread of its own.
///
/// One request per connection, handled to completion before the next is
/// accepted; every response says `Connection: close`. That is all Prometheus
/// and Kubernetes probes need, and it keeps the whole server small enough to
/// read in one sitting (no event loop, no swift-nio). It runs on a dedicated
/// thread because blocking socket calls inside Swift's cooperative pool stall
/// the learner's tasks (the pool has only one thread per core). Requests are limited in size and time, so a
/// broken or hostile client costs at most `ioTimeout` before the next one.
final class HTTPServer: @unchecked Sendable {
    // @unchecked: `stopped` is guarded by `lock`; the sockets are used by the server thread
    // only, and closed after it has finished.

    /// Limits on what one connection may cost.
    struct Limits: Sendable {
        /// The largest request head accepted; bigger ones get 413.
        var maxRequestBytes = 8 << 10
        /// The most time one connection may take, from accept to the last byte sent.
        var ioTimeout: Duration = .seconds(2)
    }

    typealias Handler = @Sendable (HTTPRequestHead) -> HTTPResponse

    let port: Int
    private let listener: POSIXSocket
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let limits: Limits
    private let handler: Handler
    private let lock = NSCondition()
    private var stopped = false
    private var threadExited = false

    init(address: ListenAddress, limits: Limits, handler: @escaping Handler) throws(TelemetryError) {
        listener = try POSIXSocket.listen(on: address)
        guard let port = listener.localPort() else {
            listener.close()
            throw .socketFailed(operation: "getsockname", reason: errnoDescription())
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            listener.close()
            throw .socketFailed(operation: "pipe", reason: errnoDescription())
        }
        self.port = port
        self.wakeRead = pipeEnds[0]
        self.wakeWrite = pipeEnds[1]
        self.limits = limits
        self.handler = handler
        let thread = Thread { [self] in serve() }
        thread.name = "telemetry-http"
        thread.start()
    }

    /// Stops accepting, waits for the connection in progress, and closes the socket. Idempotent.
    func stop() {
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        if first {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
        lock.lock()
        while !threadExited { lock.wait() }
        lock.unlock()
    }

    // MARK: - The server thread

    private func serve() {
        while true {
            let ready = pollReadable([listener.descriptor, wakeRead])
            if ready.contains(wakeRead) { break }
            if ready.contains(listener.descriptor), let connection = listener.accept() {
                respond(on: connection)
                connection.close()
            }
        }
        listener.close()
        _ = closeDescriptor(wakeRead)
        _ = closeDescriptor(wakeWrite)
        lock.lock()
        threadExited = true
        lock.broadcast()
        lock.unlock()
    }

    /// Reads one request head, answers it, and drains what the client still sends.
    private func respond(on connection: POSIXSocket) {
        connection.setTimeouts(limits.ioTimeout)
        let deadline = ContinuousClock.now + limits.ioTimeout
        var received: [UInt8] = []
        var outcome: Result<HTTPRequestHead, HTTPRequestHead.ParseError>?
        while outcome == nil {
            guard ContinuousClock.now < deadline,
                  let chunk = connection.receive(maxCount: limits.maxRequestBytes + 1 - received.count)
            else {
                connection.send(HTTPResponse.text(408, "Request Timeout", "request timeout").serialized(includeBody: true))
                return
            }
            if chunk.isEmpty {
                // The client closed before finishing a head: nothing useful to say unless it sent something.
                if !received.isEmpty { outcome = .failure(.malformed) }
                else { return }
                break
            }
            received += chunk
            outcome = HTTPRequestHead.parse(received, maxBytes: limits.maxRequestBytes)
        }
        let response: HTTPResponse
        var includeBody = true
        switch outcome {
        case .success(let head)?:
            switch head.method {
            case "GET":
                response = handler(head)
            case "HEAD":
                response = handler(head)
                includeBody = false
            default:
                var refusal = HTTPResponse.text(405, "Method Not Allowed", "only GET and HEAD are served")
                refusal.extraHeaders = [("Allow", "GET, HEAD")]
                response = refusal
            }
        case .failure(.tooLarge)?:
            response = .text(413, "Content Too Large", "request head larger than \(limits.maxRequestBytes) bytes")
        case .failure(.malformed)?, nil:
            response = .text(400, "Bad Request", "malformed request")
        }
        connection.send(response.serialized(includeBody: includeBody))
        connection.shutdownWrite()
        drain(connection, until: deadline)
    }

    /// Reads and discards what the client still sends, until it closes or pauses.
    ///
    /// NOTE: closing a socket with unread input makes the kernel send a reset,
    /// which can destroy the response before the client reads it; draining
    /// first lets an oversize request still see its 413. A short pause ends the
    /// drain, so a client that keeps its end open does not hold the thread.
    private func drain(_ connection: POSIXSocket, until deadline: ContinuousClock.Instant) {
        connection.setTimeouts(.milliseconds(50))
        var budget = 1 << 20
        while budget > 0, ContinuousClock.now < deadline,
              let chunk = connection.receive(maxCount: 16 << 10), !chunk.isEmpty {
            budget -= chunk.count
        }
    }
}
