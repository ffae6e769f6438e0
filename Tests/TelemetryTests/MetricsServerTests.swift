import Foundation
import Prometheus
import Synchronization
import Testing
@testable import Telemetry

/// The endpoint over real loopback TCP.
///
/// Tests call the blocking client from their own thread; the server has its
/// own thread, so nothing here waits on the cooperative pool.
struct MetricsServerTests {
    private func startServer(
        metrics: LearnerMetrics, ready: ReadinessFlag = ReadinessFlag(true), maxRequestBytes: Int = 8 << 10
    ) throws -> MetricsServer {
        let server = try MetricsServer(
            address: ListenAddress(host: "127.0.0.1", port: 0), registry: metrics.registry,
            maxRequestBytes: maxRequestBytes, ioTimeout: .seconds(2), isReady: { ready.value })
        #expect(server.address.port > 0 && server.address.host == "127.0.0.1")
        return server
    }

    // MARK: - /metrics

    @Test func scrapeShowsCountersInTheTextFormat() throws {
        let metrics = LearnerMetrics()
        let server = try startServer(metrics: metrics)
        defer { server.stop() }
        metrics.recordEnvironmentSteps(1000)
        metrics.recordEnvironmentSteps(24)
        metrics.recordDroppedBatch(.stale)
        metrics.recordTransitionsIngested(17, actor: "actor-3")

        let response = try httpRequest("/metrics", port: server.address.port)
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        #expect(response.headers["connection"] == "close")
        #expect(response.headers["content-length"] == String(response.body.utf8.count))
        let lines = response.body.split(separator: "\n").map(String.init)
        #expect(lines.contains("# HELP meow_env_steps_total Environment steps ingested into replay."))
        #expect(lines.contains("# TYPE meow_env_steps_total counter"))
        #expect(lines.contains("meow_env_steps_total 1024"))
        #expect(lines.contains(#"meow_batches_dropped_total{reason="stale"} 1"#))
        #expect(lines.contains(#"meow_transitions_ingested_total{actor="actor-3"} 17"#))
        #expect(lines.contains("# TYPE meow_actors_connected gauge"))
        // Every sample line is `name{labels} value`, preceded by its family's TYPE line; a
        // histogram's samples are its name plus `_bucket`, `_sum` or `_count`.
        var typed: [String: String] = [:]
        for line in lines {
            if line.hasPrefix("# TYPE ") {
                let fields = line.split(separator: " ")
                typed[String(fields[2])] = String(fields[3])
            }
            if line.hasPrefix("#") { continue }
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let family = ["_bucket", "_sum", "_count"].lazy.compactMap { suffix -> String? in
                guard name.hasSuffix(suffix) else { return nil }
                let base = String(name.dropLast(suffix.count))
                return typed[base] == "histogram" ? base : nil
            }.first ?? name
            #expect(typed[family] != nil, "\(line) has no TYPE line before it")
            #expect(Double(line.split(separator: " ").last ?? "") != nil, "\(line) ends in a number")
        }
    }

    @Test func headGetsHeadersOnly() throws {
        let server = try startServer(metrics: LearnerMetrics())
        defer { server.stop() }
        let response = try httpRequest("/healthz", method: "HEAD", port: server.address.port)
        #expect(response.status == 200 && response.body.isEmpty && response.headers["content-length"] == "3")
    }

    // MARK: - Probes

    @Test func healthAndReadinessFollowTheClosure() throws {
        let ready = ReadinessFlag(false)
        let server = try startServer(metrics: LearnerMetrics(), ready: ready)
        defer { server.stop() }
        let port = server.address.port

        let health = try httpRequest("/healthz", port: port)
        #expect(health.status == 200 && health.body == "ok\n")
        #expect(try httpRequest("/readyz", port: port).status == 503)
        ready.value = true
        let readiness = try httpRequest("/readyz", port: port)
        #expect(readiness.status == 200 && readiness.body == "ready\n")
        ready.value = false
        #expect(try httpRequest("/readyz", port: port).status == 503)
    }

    // MARK: - Bad requests, and serving on afterwards

    @Test func badRequestsAreRefusedAndServingGoesOn() throws {
        let metrics = LearnerMetrics()
        let server = try startServer(metrics: metrics, maxRequestBytes: 1024)
        defer { server.stop() }
        let port = server.address.port

        let garbage = try parseResponse(try sendRaw(Array("HELLO\r\n\r\n".utf8), port: port))
        #expect(garbage.status == 400)
        let binary = try parseResponse(try sendRaw([0x16, 0x03, 0x01, 0x00, 0xFF, 0x0D, 0x0A, 0x0D, 0x0A], port: port))
        #expect(binary.status == 400)
        let oversize = "GET /metrics HTTP/1.1\r\nX-Fill: " + String(repeating: "x", count: 16 << 10) + "\r\n\r\n"
        #expect(try parseResponse(try sendRaw(Array(oversize.utf8), port: port)).status == 431)
        let endless = [UInt8](repeating: 0x41, count: 4096)  // no line break at all
        #expect(try parseResponse(try sendRaw(endless, port: port)).status == 431, "the head limit is below the line limit")
        let manyHeaders = "GET /metrics HTTP/1.1\r\n" + String(repeating: "X: y\r\n", count: 100) + "\r\n"
        #expect(try parseResponse(try sendRaw(Array(manyHeaders.utf8), port: port)).status == 431)
        let post = try httpRequest("/metrics", method: "POST", port: port)
        #expect(post.status == 405 && post.headers["allow"] == "GET, HEAD")
        #expect(try httpRequest("/nope", port: port).status == 404)
        let truncated = try parseResponse(try sendRaw(Array("GET /metrics HT".utf8), port: port, hangUp: true))
        #expect(truncated.status == 400, "a head cut short by the client's close")
        // A client that connects and hangs up without a byte gets nothing and costs nothing.
        #expect(try sendRaw([], port: port, hangUp: true).isEmpty)

        metrics.recordUpdate()
        let after = try httpRequest("/metrics", port: port)
        #expect(after.status == 200 && after.body.contains("meow_updates_total 1\n"))
    }

    @Test func silentClientTimesOutWithoutBlockingTheNext() throws {
        let metrics = LearnerMetrics()
        let server = try MetricsServer(
            address: ListenAddress(port: 0), registry: metrics.registry, ioTimeout: .milliseconds(200))
        defer { server.stop() }
        let partial = try parseResponse(try sendRaw(Array("GET /metrics HTTP/1.1\r\n".utf8), port: server.address.port))
        #expect(partial.status == 408)
        #expect(try httpRequest("/healthz", port: server.address.port).status == 200)
    }

    // MARK: - Lifecycle

    @Test func stopReleasesThePortAndIsIdempotent() throws {
        let server = try startServer(metrics: LearnerMetrics())
        let port = server.address.port
        server.stop()
        server.stop()
        #expect(throws: HTTPClientError.self) { _ = try httpRequest("/healthz", port: port) }
        // The port can be bound again at once (SO_REUSEADDR).
        let again = try MetricsServer(address: ListenAddress(port: port), registry: PrometheusCollectorRegistry())
        #expect(again.address.port == port)
        again.stop()
    }

    @Test func bindingABusyPortFails() throws {
        let server = try startServer(metrics: LearnerMetrics())
        defer { server.stop() }
        #expect {
            _ = try MetricsServer(address: server.address, registry: PrometheusCollectorRegistry())
        } throws: { error in
            guard case .socketFailed(let operation, _)? = error as? TelemetryError else { return false }
            return operation.hasPrefix("bind")
        }
    }
}

/// A Bool the test flips while the server's thread reads it.
final class ReadinessFlag: Sendable {
    private let state: Mutex<Bool>

    init(_ value: Bool) {
        state = Mutex(value)
    }

    var value: Bool {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }
}
