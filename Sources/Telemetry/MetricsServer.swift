import Prometheus

/// The learner's HTTP endpoint: Prometheus metrics and Kubernetes probes.
///
/// - `GET /metrics`: the registry in the Prometheus text exposition format;
///   with a token, only for requests that carry `Authorization: Bearer <token>` (401 otherwise).
/// - `GET /healthz`: 200 `ok` while the process serves at all (liveness).
/// - `GET /readyz`: 200 `ready` when `isReady()` returns true, else 503 (readiness:
///   e.g. false until the replay buffer holds `learning_starts` transitions,
///   or while the learner is shutting down).
///
/// The probes stay open even with a token: a kubelet HTTP probe cannot easily
/// send one, and they reveal one bit each (alive, ready), nothing of the run.
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
    ///   - token: when given, `/metrics` answers only requests with `Authorization: Bearer <token>`.
    ///   - maxRequestBytes: request heads larger than this get 431.
    ///   - maxConnections: connections served at once; more get 503.
    ///   - ioTimeout: the most time one connection may take, from accept to the last byte sent.
    ///   - isReady: asked on every `/readyz`; must be cheap and thread-safe.
    public init(
        address: ListenAddress, registry: PrometheusCollectorRegistry, token: [UInt8]? = nil,
        maxRequestBytes: Int = 8 << 10, maxConnections: Int = 16, ioTimeout: Duration = .seconds(2),
        isReady: @escaping @Sendable () -> Bool = { true }
    ) throws(TelemetryError) {
        var limits = HTTPServer.Limits(ioTimeout: ioTimeout, maxConnections: maxConnections)
        limits.head.maxBytes = maxRequestBytes
        server = try HTTPServer(address: address, limits: limits) { head in
            Self.route(head, registry: registry, token: token, isReady: isReady)
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
        _ head: HTTPRequestHead, registry: PrometheusCollectorRegistry, token: [UInt8]?,
        isReady: @Sendable () -> Bool
    ) -> HTTPResponse {
        switch head.path {
        case "/metrics":
            if let token, !authorized(head.authorization, token: token) {
                HTTPResponse(status: 401, reason: "Unauthorized", extraHeaders: [("WWW-Authenticate", #"Bearer realm="meow""#)],
                             body: Array("a bearer token is required: send 'Authorization: Bearer <token>'\n".utf8))
            } else {
                HTTPResponse(status: 200, reason: "OK", contentType: contentType, body: registry.emitToBuffer())
            }
        case "/healthz":
            .text(200, "OK", "ok")
        case "/readyz":
            isReady() ? .text(200, "OK", "ready") : .text(503, "Service Unavailable", "not ready")
        default:
            .text(404, "Not Found", "not found; try /metrics, /healthz or /readyz")
        }
    }

    /// Whether `authorization` is `Bearer <token>` (the scheme in any case), compared in constant time.
    static func authorized(_ authorization: String?, token: [UInt8]) -> Bool {
        guard let authorization, let blank = authorization.firstIndex(of: " "),
              authorization[..<blank].lowercased() == "bearer" else { return false }
        let credentials = authorization[authorization.index(after: blank)...].drop { $0 == " " }
        return ConstantTime.equal(Array(credentials.utf8), token)
    }
}
