import Foundation
import Testing
@testable import Telemetry

/// Whether Python can import TensorBoard's event loader.
private let tensorBoardAvailable = commandSucceeds([
    "python3", "-c", "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator",
])

/// The reader script next to these tests.
private let readEventsScript = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().appendingPathComponent("Python/read_events.py").path

/// What read_events.py prints.
private struct LoadedEvents: Decodable {
    var scalars: [String: [[Double]]]
    var texts: [String: [TextEvent]]
    var textPluginTags: [String]
    var fileVersion: Double?

    enum CodingKeys: String, CodingKey {
        case scalars, texts
        case textPluginTags = "text_plugin_tags"
        case fileVersion = "file_version"
    }

    /// `[step, [strings], dtype, rank]` as a JSON array.
    struct TextEvent: Decodable {
        var step: Int
        var strings: [String]
        var dataType: Int
        var rank: Int

        init(from decoder: any Decoder) throws {
            var items = try decoder.unkeyedContainer()
            step = try items.decode(Int.self)
            strings = try items.decode([String].self)
            dataType = try items.decode(Int.self)
            rank = try items.decode(Int.self)
        }
    }
}

@Suite(.enabled(if: tensorBoardAvailable, "python3 cannot import tensorboard (pip install tensorboard)"))
struct TensorBoardInteropTests {
    // MARK: - TensorBoard's own loader

    @Test func tensorBoardReadsTagsStepsValuesAndText() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let writer = try TensorBoardWriter(directory: scratch.path)
        let markdown = HyperparameterTable.markdown([("env_id", "Hopper-v4"), ("alpha", "0.2")])
        writer.hyperparameters([("env_id", "Hopper-v4"), ("alpha", "0.2")])
        var expected: [String: [(step: Int, value: Float)]] = [:]
        for (index, tag) in MetricName.all.enumerated() {
            for round in 0..<3 {
                let step = round * 1000 + index
                let value = Float(index) * 0.1 - Float(round) / 3 + 1e-3
                writer.log(tag: tag, value: value, step: step)
                expected[tag, default: []].append((step, value))
            }
        }
        writer.log(tag: "big", value: 3.0e38, step: 1 << 40)
        expected["big"] = [(1 << 40, 3.0e38)]
        try writer.close()

        let result = try runProcess(["python3", readEventsScript, scratch.path])
        #expect(result.status == 0, "read_events.py: \(result.errorOutput)")
        let loaded = try JSONDecoder().decode(LoadedEvents.self, from: Data(result.output.utf8))

        #expect(loaded.fileVersion == 2)
        #expect(Set(loaded.scalars.keys) == Set(expected.keys))
        for (tag, points) in expected {
            let read = loaded.scalars[tag] ?? []
            #expect(read.map { Int($0[0]) } == points.map(\.step), "\(tag) steps")
            #expect(read.map { Float($0[1]) } == points.map(\.value), "\(tag) values")
        }
        #expect(loaded.textPluginTags == [MetricName.hyperparameters])
        let text = try #require(loaded.texts[MetricName.hyperparameters]?.first)
        #expect(text.strings == [markdown])
        #expect(text.step == 0 && text.dataType == 7 && text.rank == 0)
    }
}
