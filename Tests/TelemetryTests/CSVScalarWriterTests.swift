import Foundation
import Testing
@testable import Telemetry

struct CSVScalarWriterTests {
    private func lines(_ path: String) throws -> [String] {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
    }

    // MARK: - Format

    @Test func headerThenOneRowPerValue() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let writer = try CSVScalarWriter(directory: scratch.path)
        writer.log(tag: MetricName.episodicReturn, value: -12.5, step: 1000)
        writer.log(tag: MetricName.alpha, value: 0.2, step: 2000)
        writer.text(tag: MetricName.hyperparameters, markdown: "|param|value|", step: 0)
        try writer.close()
        #expect(writer.path == scratch.path + "/metrics.csv")
        #expect(try lines(writer.path) == [
            "step,tag,value", "1000,charts/episodic_return,-12.5", "2000,losses/alpha,0.2", "",
        ])
    }

    /// Every value parses back to the same Float, including the awkward ones.
    @Test func valuesRoundTripFloat() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let values: [Float] = [
            0.1, 1.0 / 3, -2.5e-38, .leastNonzeroMagnitude, .greatestFiniteMagnitude, 16_777_215, 1e-5,
            .infinity, -.infinity, -0.0,
        ]
        let writer = try CSVScalarWriter(directory: scratch.path)
        for (step, value) in values.enumerated() { writer.log(tag: "v", value: value, step: step) }
        writer.log(tag: "v", value: .nan, step: values.count)
        try writer.close()

        let rows = try lines(writer.path).dropFirst().filter { !$0.isEmpty }
        let parsed = rows.map { Float($0.split(separator: ",")[2])! }
        #expect(Array(parsed.prefix(values.count)).map(\.bitPattern) == values.map(\.bitPattern))
        #expect(parsed.last?.isNaN == true)
    }

    @Test func tagsWithCommasAndQuotesAreQuoted() {
        #expect(CSVScalarWriter.row(tag: #"a,b"c"#, value: 1, step: 2) == #"2,"a,b""c",1.0"# + "\n")
        #expect(CSVScalarWriter.row(tag: "plain/tag", value: 1, step: 2) == "2,plain/tag,1.0\n")
    }

    // MARK: - Resuming

    @Test func reopeningAppendsWithoutASecondHeader() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let first = try CSVScalarWriter(directory: scratch.path)
        first.log(tag: "a", value: 1, step: 1)
        try first.close()
        let second = try CSVScalarWriter(directory: scratch.path)
        second.log(tag: "a", value: 2, step: 2)
        try second.close()
        #expect(try lines(second.path) == ["step,tag,value", "1,a,1.0", "2,a,2.0", ""])
    }

    @Test func closeIsIdempotentAndFlushIsImmediate() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let writer = try CSVScalarWriter(directory: scratch.path, flushInterval: .seconds(3600))
        writer.log(tag: "a", value: 1, step: 1)
        try writer.flush()
        #expect(try lines(writer.path) == ["step,tag,value", "1,a,1.0", ""])
        try writer.close()
        try writer.close()
        #expect(writer.droppedRows == 0)
    }
}
