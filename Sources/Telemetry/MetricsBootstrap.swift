import CoreMetrics
import Prometheus
import Synchronization

/// Routes swift-metrics (`Counter(label:)`, `Timer(label:)`, ...) into a Prometheus registry.
///
/// `MetricsSystem.bootstrap` may run once per process and traps on a second
/// call, so executables call `bootstrapOnce` at start-up, and libraries and
/// tests that only need `LearnerMetrics` use a registry directly and never
/// bootstrap. This is the one piece of process-wide state in Telemetry, and it
/// is process-wide because swift-metrics' own is.
public enum MetricsBootstrap {
    private static let done = Mutex(false)

    /// A swift-metrics factory writing into `registry`.
    public static func makeFactory(registry: PrometheusCollectorRegistry) -> PrometheusMetricsFactory {
        PrometheusMetricsFactory(registry: registry)
    }

    /// Bootstraps swift-metrics with `registry` the first time; returns false (and changes nothing) later.
    @discardableResult
    public static func bootstrapOnce(registry: PrometheusCollectorRegistry) -> Bool {
        done.withLock { done in
            guard !done else { return false }
            MetricsSystem.bootstrap(makeFactory(registry: registry))
            done = true
            return true
        }
    }
}
