import Foundation
import Testing
@testable import Telemetry

/// docs/metrics.md must describe every name the code emits, so dashboards can be built from it.
struct MetricsDocumentationTests {
    private static let page: String? = {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try? String(contentsOf: root.appendingPathComponent("docs/metrics.md"), encoding: .utf8)
    }()

    @Test func everyScalarTagIsDocumented() throws {
        let page = try #require(Self.page, "docs/metrics.md is missing")
        for tag in MetricName.all + [MetricName.hyperparameters] {
            #expect(page.contains("`\(tag)`"), "\(tag) is not in docs/metrics.md")
        }
    }

    @Test func everyPrometheusFamilyIsDocumentedWithItsType() throws {
        let page = try #require(Self.page, "docs/metrics.md is missing")
        for family in LearnerMetrics.families {
            let row = page.split(separator: "\n").first { $0.contains("`\(family.name)`") }
            #expect(row?.contains(family.type) == true, "\(family.name) (\(family.type)) is not in docs/metrics.md")
        }
    }

    @Test func referenceNamesAreExactlyTheCleanRLOnes() {
        #expect(MetricName.reference == [
            "charts/episodic_return", "charts/episodic_length", "charts/SPS", "losses/qf_loss", "losses/alpha",
            "Test/return",
        ])
        #expect(Set(MetricName.all).count == MetricName.all.count, "no tag is listed twice")
    }
}
