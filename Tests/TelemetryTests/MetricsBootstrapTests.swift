import CoreMetrics
import Prometheus
import Testing
@testable import Telemetry

struct MetricsBootstrapTests {
    /// The only test that touches swift-metrics' process-wide state; later calls must be no-ops.
    @Test func bootstrapsOnceAndRoutesSwiftMetricsIntoTheRegistry() throws {
        let registry = PrometheusCollectorRegistry()
        let first = MetricsBootstrap.bootstrapOnce(registry: registry)
        #expect(MetricsBootstrap.bootstrapOnce(registry: PrometheusCollectorRegistry()) == false)
        try #require(first, "nothing else in the test process may bootstrap swift-metrics")
        CoreMetrics.Counter(label: "meow_bootstrap_test_total").increment(by: 3)
        #expect(registry.emitToString().contains("meow_bootstrap_test_total 3\n"))
    }
}
