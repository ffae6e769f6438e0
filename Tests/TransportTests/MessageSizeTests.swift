#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing
@testable import Transport

@Suite(.ownExecutor) struct MessageSizeTests {
    // MARK: - RECVMAXSZ

    @Test func maxMessageSizeCountsTheFourByteRequestHeader() async throws {
        let limit = 1024
        let server = try ReplySocket(options: SocketOptions(maxMessageSize: limit))
        let url = try listenOnFreePort(server)
        let serving = startServer(server) { [UInt8(truncatingIfNeeded: $0.count >> 8), UInt8(truncatingIfNeeded: $0.count)] }

        let fits = try RequestSocket(options: clientOptions())
        try fits.dial(url)
        let body = limit - 4
        #expect(try await fits.request([UInt8](repeating: 7, count: body)) == [UInt8(body >> 8), UInt8(body & 0xFF)])

        let tooBig = try RequestSocket(options: clientOptions(receiveTimeout: .milliseconds(300)))
        try tooBig.dial(url)
        await #expect(throws: NNGError.timedOut) {
            _ = try await tooBig.request([UInt8](repeating: 7, count: body + 1))
        }

        fits.close()
        tooBig.close()
        server.close()
        try await serving.value
    }

    @Test func oversizeMessageIsDroppedAndServerKeepsServing() async throws {
        let limit = 64 << 10
        let server = try ReplySocket(options: SocketOptions(maxMessageSize: limit))
        let url = try listenOnFreePort(server)
        let largest = Mutex(0)
        let serving = startServer(server) { request in
            largest.withLock { $0 = max($0, request.count) }
            return [1]
        }

        let offender = try RequestSocket(options: clientOptions(receiveTimeout: .milliseconds(300)))
        try offender.dial(url)
        await #expect(throws: NNGError.timedOut) {
            _ = try await offender.request([UInt8](repeating: 1, count: 2 * limit))
        }
        offender.close()

        let honest = try RequestSocket(options: clientOptions())
        try honest.dial(url)
        #expect(try await honest.request([UInt8](repeating: 2, count: limit / 2)) == [1])
        #expect(largest.withLock { $0 } == limit / 2)

        honest.close()
        server.close()
        try await serving.value
    }

    // MARK: - Forged peers

    @Test func forgedLengthHeaderDoesNotAllocateAndServerKeepsServing() async throws {
        let server = try ReplySocket(options: SocketOptions(maxMessageSize: 1 << 20))
        let url = try listenOnFreePort(server)
        let port = try #require(url.split(separator: ":").last.flatMap { Int($0) })
        let serving = startServer(server)
        let peakBefore = try peakResidentBytes()
        let virtualBefore = try peakVirtualBytes()

        let forged = try RawTCPConnection(port: port)
        defer { forged.close() }
        // SP handshake: 0x00 'S' 'P' 0x00, protocol REQ v0 (0x0030) big-endian, 2 reserved bytes.
        try forged.write([0x00, 0x53, 0x50, 0x00, 0x00, 0x30, 0x00, 0x00])
        let handshake = try await forged.read(count: 8)
        #expect(handshake == [0x00, 0x53, 0x50, 0x00, 0x00, 0x31, 0x00, 0x00])  // REP v0 answers
        // A frame length of 8 GiB, big-endian, followed by a few bytes of "body".
        let claimed: UInt64 = 8 << 30
        try forged.write(withUnsafeBytes(of: claimed.bigEndian) { Array($0) } + [1, 2, 3, 4])
        #expect(try await forged.waitForClose(), "nng should drop a peer that claims an oversize frame")

        let growth = try peakResidentBytes() - peakBefore
        #expect(growth < 32 << 20, "peak RSS grew by \(growth >> 20) MiB")
        // An allocation of the claimed size would show here even untouched
        // (thread stacks and malloc arenas stay far below this bound).
        let virtualGrowth = try peakVirtualBytes() - virtualBefore
        #expect(virtualGrowth < 2 << 30, "peak virtual size grew by \(virtualGrowth >> 20) MiB")

        let client = try RequestSocket(options: clientOptions())
        try client.dial(url)
        #expect(try await client.request([5, 6]) == [6, 5])

        client.close()
        server.close()
        try await serving.value
    }
}

/// A plain TCP client made with the C socket API, to speak bytes nng would never send.
///
/// Reads block their thread in `poll` until bytes come or the deadline passes: the suite runs
/// on an executor of its own (`.ownExecutor`), never on a cooperative pool thread.
final class RawTCPConnection: Sendable {
    enum Failure: Error { case system(String), timedOut }

    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw Failure.system("socket") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            Glibc.close(descriptor)
            throw Failure.system("connect")
        }
    }

    func write(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw Failure.system("send") }
    }

    /// Reads exactly `count` bytes, or throws after 3 s.
    func read(count: Int) async throws -> [UInt8] {
        let deadline = ContinuousClock.now + .seconds(3)
        var bytes: [UInt8] = []
        while bytes.count < count {
            guard let chunk = try readAvailable(max: count - bytes.count, until: deadline) else {
                throw Failure.system("closed early")
            }
            if chunk.isEmpty { throw Failure.timedOut }
            bytes += chunk
        }
        return bytes
    }

    /// Whether the peer closes the connection within 3 s.
    func waitForClose() async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(3)
        while let chunk = try readAvailable(max: 4096, until: deadline) {
            if chunk.isEmpty { return false }
        }
        return true
    }

    /// Up to `max` bytes, [] if none came by `deadline`, or nil at end of stream or reset.
    private func readAvailable(max: Int, until deadline: ContinuousClock.Instant) throws -> [UInt8]? {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let left = ContinuousClock.now.duration(to: deadline) / .milliseconds(1)
        // Timed wait: the test's deadline for the peer's bytes.
        let ready = poll(&poller, 1, Int32(Swift.max(0, left.rounded(.up))))
        if ready == 0 { return [] }
        var buffer = [UInt8](repeating: 0, count: max)
        let received = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if received <= 0 { return nil }
        return Array(buffer[..<received])
    }

    func close() { Glibc.close(descriptor) }
}
