import Foundation
import Testing

@testable import Learning

@Suite struct MetricsWriterTests {
    static func contents(_ url: URL) throws -> String {
        try String(contentsOf: url, encoding: .utf8)
    }

    @Test func rowsReachTheFileOnFlushAndClose() throws {
        let directory = temporaryRunDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("metrics.csv")
        let writer = try MetricsWriter(url: url)
        writer.record(step: 1, tag: "losses/alpha", value: Float(0.2))
        writer.record(step: 2, tag: "Test/return", value: -150.25)
        #expect(try Self.contents(url) == "step,tag,value\n", "rows stay buffered until a flush")
        try writer.flush()
        #expect(try Self.contents(url) == "step,tag,value\n1,losses/alpha,0.2\n2,Test/return,-150.25\n")
        writer.record(step: 3, tag: "charts/SPS", value: 812.0)
        try writer.close()
        writer.record(step: 4, tag: "dropped", value: 1.0)
        #expect(try Self.contents(url).hasSuffix("3,charts/SPS,812.0\n"))
    }

    @Test func aFullBufferFlushesByItself() throws {
        let directory = temporaryRunDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("metrics.csv")
        let writer = try MetricsWriter(url: url, flushThreshold: 64)
        for step in 1...10 { writer.record(step: step, tag: "losses/qf_loss", value: Float(step)) }
        let lines = try Self.contents(url).split(separator: "\n")
        #expect(lines.count > 1 && lines.count < 11, "some rows flushed, the last ones still buffered")
        try writer.close()
        #expect(try Self.contents(url).split(separator: "\n").count == 11)
    }
}
