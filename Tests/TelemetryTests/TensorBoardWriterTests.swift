import Foundation
import Testing
@testable import Telemetry

struct TensorBoardWriterTests {
    // MARK: - File name and framing

    @Test func fileIsNamedTheTensorBoardWay() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let before = Int(Date().timeIntervalSince1970)
        let writer = try TensorBoardWriter(directory: scratch.path + "/run/a")
        try writer.close()
        let after = Int(Date().timeIntervalSince1970)

        let name = URL(fileURLWithPath: writer.path).lastPathComponent
        let parts = name.split(separator: ".", maxSplits: 3).map(String.init)
        #expect(parts.count == 4)
        #expect(parts[0...1] == ["events", "out"] && parts[2] == "tfevents")
        let rest = parts[3]
        let seconds = try #require(Int(rest.prefix { $0 != "." }))
        #expect((before...after).contains(seconds))
        #expect(rest.dropFirst(String(seconds).count + 1) == hostName()[...])
    }

    @Test func twoWritersInOneSecondGetTwoFiles() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let first = try TensorBoardWriter(directory: scratch.path)
        let second = try TensorBoardWriter(directory: scratch.path)
        try first.close()
        try second.close()
        #expect(first.path != second.path)
        #expect(try scratch.files().count == 2)
    }

    @Test func scalarsAndTextReadBackWithValidChecksums() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let writer = try TensorBoardWriter(directory: scratch.path)
        let logged: [(String, Float, Int)] = [
            (MetricName.episodicReturn, -12.5, 1000), (MetricName.stepsPerSecond, 0.1, 1000),
            (MetricName.qfLoss, 3.25e-7, 2000),
        ]
        writer.hyperparameters([("batch_size", "256"), ("tau", "0.005")])
        for (tag, value, step) in logged { writer.log(tag: tag, value: value, step: step) }
        try writer.close()

        var reader = TFRecordReader(bytes: try readBytes(writer.path))
        let records = try reader.readAll()
        #expect(records.count == 2 + logged.count)
        guard records.count == 2 + logged.count else { return }
        #expect(protobufFields(records[0])?.last?.1 == .bytes(Array("brain.Event:2".utf8)))
        let scalars = records[2...].compactMap(decodeScalarEvent)
        #expect(scalars.map(\.tag) == logged.map(\.0))
        #expect(scalars.map(\.value) == logged.map(\.1))
        #expect(scalars.map(\.step) == logged.map(\.2))
        #expect(decodeScalarEvent(records[1]) == nil, "the text event carries no simple_value")
    }

    // MARK: - Buffering, flushing, closing

    @Test func nothingIsLostAcrossFlushAndRepeatedClose() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let writer = try TensorBoardWriter(directory: scratch.path, flushInterval: .seconds(3600))
        writer.log(tag: "a", value: 1, step: 1)
        try writer.flush()
        var reader = TFRecordReader(bytes: try readBytes(writer.path))
        #expect(try reader.readAll().count == 2, "flush writes without waiting for the timer")

        writer.log(tag: "a", value: 2, step: 2)
        try writer.close()
        try writer.close()
        writer.log(tag: "a", value: 3, step: 3)  // after close: dropped, not crashed
        try writer.flush()
        reader = TFRecordReader(bytes: try readBytes(writer.path))
        #expect(try reader.readAll().compactMap(decodeScalarEvent).map(\.value) == [1, 2])
        #expect(writer.droppedRecords == 1)
    }

    @Test func timerWritesWithoutFlush() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let writer = try TensorBoardWriter(directory: scratch.path, flushInterval: .milliseconds(20))
        defer { try? writer.close() }
        writer.log(tag: "a", value: 1, step: 1)
        let deadline = ContinuousClock.now + .seconds(10)
        var records = 0
        while records < 2 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            var reader = TFRecordReader(bytes: try readBytes(writer.path))
            records = (try? reader.readAll().count) ?? 0
        }
        #expect(records == 2)
    }

    /// Loggers are shared by the learner's threads: every value from every thread arrives whole.
    @Test func concurrentLoggingKeepsEveryRecord() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let writer = try TensorBoardWriter(directory: scratch.path, flushInterval: .milliseconds(5))
        let tasks = 4, perTask = 500
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    for step in 0..<perTask { writer.log(tag: "t\(task)", value: Float(step), step: step) }
                }
            }
        }
        try writer.close()
        var reader = TFRecordReader(bytes: try readBytes(writer.path))
        let scalars = try reader.readAll().compactMap(decodeScalarEvent)
        #expect(scalars.count == tasks * perTask)
        for task in 0..<tasks {
            let steps = scalars.filter { $0.tag == "t\(task)" }.map(\.step)
            #expect(steps == Array(0..<perTask), "each thread's values stay in its order")
        }
    }

    // MARK: - Errors

    @Test func unusableDirectoryThrowsAtStart() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let blocker = scratch.path + "/file"
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data()))
        #expect {
            _ = try TensorBoardWriter(directory: blocker + "/sub")
        } throws: { error in
            guard case .cannotCreateDirectory? = error as? TelemetryError else { return false }
            return true
        }
    }
}
