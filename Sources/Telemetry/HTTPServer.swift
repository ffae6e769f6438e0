#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A minimal HTTP/1.1 responder for probes and scrapes, on a thread of its own.
///
/// One request per connection; every response says `Connection: close`. That
/// is all Prometheus and Kubernetes probes need, and it keeps the server small
/// enough to read in one sitting. It runs on a dedicated thread because
/// blocking in Swift's cooperative pool stalls the learner's tasks (the pool
/// has one thread per core).
///
/// Every byte it reads is untrusted. The thread multiplexes up to
/// `maxConnections` non-blocking connections with `poll`, and each one has a
/// deadline `ioTimeout` after its accept: a client that trickles its request
/// (one byte a second), or never reads the answer, is cut off then, and cannot
/// hold the endpoint for others meanwhile. Connections beyond the limit are
/// answered 503 at once; beyond twice the limit they wait in the kernel's
/// backlog. Heads are bounded by `HTTPRequestHead.Limits`.
///
/// We keep our own parser rather than swift-nio's NIOHTTP1: the endpoint
/// serves GET and HEAD of three paths, and swift-nio would add minutes to
/// every clean build (docs/metrics.md, "Hardening").
final class HTTPServer: Sendable {
    // The sockets and the connection table belong to the server thread, and are closed before it exits.

    /// Limits on what one connection, and all of them together, may cost.
    struct Limits: Sendable {
        /// Size limits of a request head.
        var head = HTTPRequestHead.Limits()
        /// The most time one connection may take, from accept to the last byte sent.
        var ioTimeout: Duration = .seconds(2)
        /// The most requests read at once; more connections are answered 503.
        var maxConnections = 16
    }

    typealias Handler = @Sendable (HTTPRequestHead) -> HTTPResponse

    let port: Int
    private let listener: POSIXSocket
    private let wakeRead: Int32
    private let wakeWrite: Int32
    private let limits: Limits
    private let handler: Handler
    private let stopped = Atomic<Bool>(false)
    /// Left by the server thread as it exits, after closing every socket.
    private let running = DispatchGroup()

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
        running.enter()
        let thread = Thread { [self] in serve() }
        thread.name = "telemetry-http"
        thread.start()
    }

    /// Stops accepting, closes every connection and the socket. Idempotent.
    func stop() {
        if !stopped.exchange(true, ordering: .acquiringAndReleasing) {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
        running.wait()
    }

    // MARK: - Connections

    /// One accepted connection and how far it has got.
    private struct Connection {
        enum Phase {
            /// Reading the head; `scanned` bytes hold no end of head yet.
            case reading(received: [UInt8], scanned: Int)
            /// Sending the response; the bytes not yet sent.
            case writing(pending: ArraySlice<UInt8>)
            /// Response sent and our side shut: discarding what the client still sends (see `drainPause`).
            case draining(until: ContinuousClock.Instant, budget: Int)
        }

        let socket: POSIXSocket
        let deadline: ContinuousClock.Instant
        var phase: Phase
    }

    /// How long a drain waits for the client's next bytes.
    ///
    /// NOTE: closing a socket with unread input makes the kernel send a reset,
    /// which can destroy the response before the client reads it; draining
    /// first lets an oversize request still see its 431. A short pause ends
    /// the drain, so a client that keeps its end open costs little.
    private static let drainPause = Duration.milliseconds(50)
    /// How long a connection refused for lack of room may take to get its 503.
    private static let busyTimeout = Duration.milliseconds(250)
    /// The most bytes a drain discards before closing anyway.
    private static let drainBudget = 1 << 20

    // MARK: - The server thread

    private func serve() {
        var connections: [Connection] = []
        while true {
            // A full table leaves new connections in the backlog until one ends.
            let accepting = connections.count < 2 * limits.maxConnections
            var descriptors = [pollfd(fd: wakeRead, events: Int16(POLLIN), revents: 0),
                               pollfd(fd: listener.descriptor, events: accepting ? Int16(POLLIN) : 0, revents: 0)]
            for connection in connections {
                var events = POLLIN
                if case .writing = connection.phase { events = POLLOUT }
                descriptors.append(pollfd(fd: connection.socket.descriptor, events: Int16(events), revents: 0))
            }
            let ready = poll(&descriptors, nfds_t(descriptors.count), pollTimeout(connections))
            if ready > 0, descriptors[0].revents != 0 { break }
            let now = ContinuousClock.now
            // Walk the table back to front, so removing an entry leaves earlier indices valid.
            for index in connections.indices.reversed() {
                let revents = ready > 0 ? descriptors[index + 2].revents : 0
                if !advance(&connections[index], readable: revents != 0, now: now) {
                    connections[index].socket.close()
                    connections.remove(at: index)
                }
            }
            if ready > 0, descriptors[1].revents != 0 { acceptPending(into: &connections) }
        }
        for connection in connections { connection.socket.close() }
        listener.close()
        _ = closeDescriptor(wakeRead)
        _ = closeDescriptor(wakeWrite)
        running.leave()
    }

    /// Milliseconds until the earliest deadline, rounded up; -1 (wait for I/O alone) without connections.
    private func pollTimeout(_ connections: [Connection]) -> Int32 {
        let next = connections.map { connection -> ContinuousClock.Instant in
            if case .draining(let until, _) = connection.phase { return min(until, connection.deadline) }
            return connection.deadline
        }.min()
        guard let next else { return -1 }
        let wait = next - ContinuousClock.now
        guard wait > .zero else { return 0 }
        return Int32(min(Double(Int32.max), wait.milliseconds.rounded(.down) + 1))
    }

    /// Accepts what is pending. Beyond `maxConnections`, a connection is answered 503 and gets a
    /// short deadline; beyond twice that, the rest wait in the kernel's backlog.
    private func acceptPending(into connections: inout [Connection]) {
        // Only connections still reading count against the limit: one that has its answer is gone
        // within a drain pause or its deadline.
        var reading = connections.filter { if case .reading = $0.phase { true } else { false } }.count
        while connections.count < 2 * limits.maxConnections, let socket = listener.accept() {
            let now = ContinuousClock.now
            guard reading < limits.maxConnections else {
                let busy = HTTPResponse.text(503, "Service Unavailable", "too many connections; retry shortly")
                connections.append(Connection(socket: socket, deadline: now + min(limits.ioTimeout, Self.busyTimeout),
                                              phase: .writing(pending: busy.serialized(includeBody: true)[...])))
                continue
            }
            connections.append(Connection(socket: socket, deadline: now + limits.ioTimeout,
                                          phase: .reading(received: [], scanned: 0)))
            reading += 1
        }
    }

    /// Moves one connection on as far as its socket allows; false when it is done and should close.
    private func advance(_ connection: inout Connection, readable: Bool, now: ContinuousClock.Instant) -> Bool {
        switch connection.phase {
        case .reading(var received, let scanned):
            guard now < connection.deadline else {
                // Best effort: a client that stopped sending may still read.
                let late = HTTPResponse.text(408, "Request Timeout", "request timeout")
                _ = connection.socket.sendAvailable(late.serialized(includeBody: true)[...])
                return false
            }
            guard readable else { return true }
            switch connection.socket.receiveAvailable(maxCount: max(1, limits.head.maxBytes + 1 - received.count)) {
            case .wouldBlock:
                return true
            case .failed:
                return false
            case .end:
                // A client that hangs up before a byte gets nothing; one that sent half a head gets 400.
                guard !received.isEmpty else { return false }
                respond(&connection, to: .failure(.malformed))
            case .bytes(let chunk):
                received += chunk
                if let outcome = HTTPRequestHead.parse(received, limits: limits.head, searchFrom: scanned) {
                    respond(&connection, to: outcome)
                } else {
                    connection.phase = .reading(received: received, scanned: max(0, received.count - 3))
                }
            }
            return advance(&connection, readable: false, now: now)
        case .writing(let pending):
            guard now < connection.deadline else { return false }
            guard let sent = connection.socket.sendAvailable(pending) else { return false }
            let rest = pending.dropFirst(sent)
            guard rest.isEmpty else {
                connection.phase = .writing(pending: rest)
                return true
            }
            connection.socket.shutdownWrite()
            connection.phase = .draining(until: min(connection.deadline, now + Self.drainPause), budget: Self.drainBudget)
            return true
        case .draining(let until, let budget):
            guard now < until else { return false }
            guard readable else { return true }
            switch connection.socket.receiveAvailable(maxCount: 16 << 10) {
            case .wouldBlock:
                return true
            case .end, .failed:
                return false
            case .bytes(let chunk):
                guard budget > chunk.count else { return false }
                connection.phase = .draining(until: min(connection.deadline, now + Self.drainPause),
                                             budget: budget - chunk.count)
                return true
            }
        }
    }

    /// Turns a parsed head (or a refusal) into the response to send.
    private func respond(_ connection: inout Connection, to outcome: Result<HTTPRequestHead, HTTPRequestHead.ParseError>) {
        let response: HTTPResponse
        var includeBody = true
        switch outcome {
        case .success(let head):
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
        case .failure(.tooLarge):
            response = .text(431, "Request Header Fields Too Large",
                             "request head larger than \(limits.head.maxBytes) bytes "
                             + "or with more than \(limits.head.maxHeaderCount) header lines")
        case .failure(.requestLineTooLong):
            response = .text(414, "URI Too Long", "request line longer than \(limits.head.maxRequestLineBytes) bytes")
        case .failure(.malformed):
            response = .text(400, "Bad Request", "malformed request")
        }
        connection.phase = .writing(pending: response.serialized(includeBody: includeBody)[...])
    }
}
