import Prometheus

/// The learner's HTTP endpoint: Prometheus metrics and Kubernetes probes.
///
/// - `GET /metrics`: the registry in the Prometheus text exposition format.
/// - `GET /healthz`: 200 `ok` while the process serves at all (liveness).
/// - `GET /readyz`: 200 `ready` when `isReady()` returns true, else 503 (readiness:
///   e.g. false until the replay buffer holds `learning_starts` transitions,
///   or while the learner is shutting down).
///
/// Serving runs on its own thread (see `HTTPServer`); a scrape reads the
/// registry's atomics and never waits for the training loop.
public final class MetricsServer: Sendable {
    /// The address actually bound (the kernel's port when 0 was asked for).
    public let address: ListenAddress
    private let server: HTTPServer

    /// The Prometheus text format's content type, version 0.0.4.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// Binds `address` and starts serving.
    ///
    /// - Parameters:
    ///   - maxRequestBytes: request heads larger than this get 413.
    ///   - ioTimeout: the most time one connection may take.
    ///   - isReady: asked on every `/readyz`; must be cheap and thread-safe.
    public init(
        address: ListenAddress, registry: PrometheusCollectorRegistry,
        maxRequestBytes: Int = 8 << 10, ioTimeout: Duration = .seconds(2),
        isReady: @escaping @Sendable () -> Bool = { true }
    ) throws(TelemetryError) {
        server = try HTTPServer(
            address: address, limits: .init(maxRequestBytes: maxRequestBytes, ioTimeout: ioTimeout)
        ) { head in
            Self.route(head, registry: registry, isReady: isReady)
        }
        self.address = ListenAddress(host: address.host, port: server.port)
    }

    /// Stops serving and releases the port; waits for a request in progress. Idempotent.
    public func stop() {
        server.stop()
    }

    deinit {
        server.stop()
    }

    static func route(
        _ head: HTTPRequestHead, registry: PrometheusCollectorRegistry, isReady: @Sendable () -> Bool
    ) -> HTTPResponse {
        switch head.path {
        case "/metrics":
            HTTPResponse(status: 200, reason: "OK", contentType: contentType, body: registry.emitToBuffer())
        case "/healthz":
            .text(200, "OK", "ok")
        case "/readyz":
            isReady() ? .text(200, "OK", "ready") : .text(503, "Service Unavailable", "not ready")
        default:
            .text(404, "Not Found", "not found; try /metrics, /healthz or /readyz")
        }
    }
}
