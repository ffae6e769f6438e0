#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing
@testable import Telemetry

/// The endpoint against hostile clients over real loopback TCP: a slow client, oversize heads,
/// garbage and a flood of connections each get a bounded answer, and others are served meanwhile.
struct MetricsServerHardeningTests {
    // MARK: - Bearer token

    @Test func tokenGuardsMetricsButNotTheProbes() throws {
        let metrics = LearnerMetrics()
        let server = try MetricsServer(address: ListenAddress(port: 0), registry: metrics.registry,
                                       token: Array("s3cret".utf8))
        defer { server.stop() }
        let port = server.address.port
        metrics.recordUpdate()

        let missing = try httpRequest("/metrics", port: port)
        #expect(missing.status == 401 && missing.headers["www-authenticate"] == #"Bearer realm="meow""#)
        #expect(!missing.body.contains("meow_"), "a refusal reveals no metric")
        #expect(try httpRequest("/metrics", headers: ["Authorization: Bearer s3cre"], port: port).status == 401)
        #expect(try httpRequest("/metrics", headers: ["Authorization: Bearer s3cret2"], port: port).status == 401)
        #expect(try httpRequest("/metrics", headers: ["Authorization: Basic s3cret"], port: port).status == 401)
        #expect(try httpRequest("/metrics", headers: ["Authorization: s3cret"], port: port).status == 401)
        let granted = try httpRequest("/metrics", headers: ["Authorization: Bearer s3cret"], port: port)
        #expect(granted.status == 200 && granted.body.contains("meow_updates_total 1\n"))
        #expect(try httpRequest("/metrics", headers: ["authorization: bearer s3cret"], port: port).status == 200)
        #expect(try httpRequest("/healthz", port: port).status == 200)
        #expect(try httpRequest("/readyz", port: port).status == 200)
    }

    @Test func loopbackIsToldApartFromTheNetwork() throws {
        for host in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            #expect(ListenAddress(host: host, port: 1).isLoopback, "\(host)")
        }
        for host in ["0.0.0.0", "::", "10.0.0.7", "128.0.0.1", "::2", "::ffff:10.0.0.1", "fe80::1"] {
            #expect(!ListenAddress(host: host, port: 1).isLoopback, "\(host)")
        }
    }

    // MARK: - Slow and silent clients

    @Test func aTricklingClientIsCutOffAndOthersAreServedMeanwhile() throws {
        let server = try MetricsServer(address: ListenAddress(port: 0), registry: LearnerMetrics().registry,
                                       ioTimeout: .milliseconds(800))
        defer { server.stop() }
        let port = server.address.port
        let slow = try connectLoopback(port: port)
        defer { close(slow) }
        let start = ContinuousClock.now
        // One byte every 100 ms: the head would take seconds; the deadline ends it.
        var answered = 0
        for byte in Array("GET /metrics HTTP/1.1\r\nHost: x\r\n".utf8) {
            sendBytes([byte], on: slow)
            if answered < 3 {
                // Served while the slow client holds its connection.
                #expect(try httpRequest("/healthz", port: port).status == 200)
                answered += 1
            }
            // Stop before the deadline: bytes the server never reads would make its close a reset.
            if ContinuousClock.now - start > .milliseconds(400) { break }
            usleep(100_000)
        }
        let cutOff = try parseResponse(receiveUntilClosed(slow))
        #expect(cutOff.status == 408)
        #expect(ContinuousClock.now - start < .seconds(3), "the deadline, not the client, ended the request")
        #expect(answered == 3)
    }

    // MARK: - Size limits

    @Test func longRequestLinesGet414() throws {
        let server = try MetricsServer(address: ListenAddress(port: 0), registry: LearnerMetrics().registry)
        defer { server.stop() }
        let line = "GET /" + String(repeating: "a", count: 4000)
        #expect(try parseResponse(try sendRaw(Array(line.utf8), port: server.address.port)).status == 414)
        #expect(try httpRequest("/healthz", port: server.address.port).status == 200)
    }

    // MARK: - Many connections

    @Test func connectionsBeyondTheLimitGet503AndServingGoesOn() throws {
        let server = try MetricsServer(address: ListenAddress(port: 0), registry: LearnerMetrics().registry,
                                       maxConnections: 4, ioTimeout: .seconds(5))
        defer { server.stop() }
        let port = server.address.port
        // Four idle clients take every slot; each sends a byte so the server has surely accepted it.
        var idle: [Int32] = []
        defer { idle.forEach { _ = close($0) } }
        for _ in 0 ..< 4 {
            let fd = try connectLoopback(port: port)
            idle.append(fd)
            sendBytes(Array("G".utf8), on: fd)
        }
        usleep(200_000)
        let refused = try httpRequest("/healthz", port: port)
        #expect(refused.status == 503)
        // Garbage and hang-ups free their slots at once.
        for fd in idle { sendBytes([0x00, 0x0D, 0x0A, 0x0D, 0x0A], on: fd) }
        for fd in idle { #expect(try parseResponse(receiveUntilClosed(fd)).status == 400) }
        for _ in 0 ..< 20 {
            let answer = try httpRequest("/healthz", port: port)
            #expect(answer.status == 200, "\(answer)")
        }
    }
}
