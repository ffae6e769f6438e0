import Foundation
import Synchronization
import Testing
@testable import Telemetry

struct FanOutLoggerTests {
    // MARK: - Fan-out

    @Test func tensorBoardAndCSVSeeTheSameScalars() throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let tensorBoard = try TensorBoardWriter(directory: scratch.path)
        let csv = try CSVScalarWriter(directory: scratch.path)
        let logger: any ScalarLogger = FanOutLogger([tensorBoard, csv])
        logger.log(tag: MetricName.qfLoss, value: 0.75, step: 10)
        logger.log(tag: MetricName.replaySize, value: Double(4096), step: 20)
        try logger.close()
        try logger.close()

        var reader = TFRecordReader(bytes: try readBytes(tensorBoard.path))
        let scalars = try reader.readAll().compactMap(decodeScalarEvent)
        #expect(scalars.map(\.tag) == [MetricName.qfLoss, MetricName.replaySize])
        #expect(scalars.map(\.value) == [0.75, 4096])
        let csvText = try String(contentsOfFile: csv.path, encoding: .utf8)
        #expect(csvText == "step,tag,value\n10,losses/qf_loss,0.75\n20,replay/size,4096.0\n")
    }

    /// One failing sink must not keep the others from flushing and closing.
    @Test func everyLoggerIsClosedAndTheFirstFailureIsThrown() {
        let first = RecordingLogger(failure: .writeFailed(path: "a", reason: "disk full"))
        let second = RecordingLogger(failure: .writeFailed(path: "b", reason: "gone"))
        let third = RecordingLogger(failure: nil)
        let logger = FanOutLogger([first, second, third])
        #expect(throws: TelemetryError.writeFailed(path: "a", reason: "disk full")) { try logger.flush() }
        #expect(throws: TelemetryError.writeFailed(path: "a", reason: "disk full")) { try logger.close() }
        for sink in [first, second, third] { #expect(sink.calls == ["flush", "close"]) }
    }

    @Test func hyperparametersBecomeAMarkdownTable() {
        let third = RecordingLogger(failure: nil)
        FanOutLogger([third]).hyperparameters([("env_id", "Hopper-v4"), ("note", "a|b\nc")])
        #expect(third.calls == ["text hyperparameters |param|value|\n|-|-|\n|env_id|Hopper-v4|\n|note|a\\|b c|"])
    }
}

/// A logger that records which calls reached it and fails on demand.
private final class RecordingLogger: ScalarLogger {
    private let failure: TelemetryError?
    private let recorded = Mutex<[String]>([])

    init(failure: TelemetryError?) {
        self.failure = failure
    }

    var calls: [String] { recorded.withLock { $0 } }

    func log(tag: String, value: Float, step: Int) {
        recorded.withLock { $0.append("log \(tag)") }
    }

    func text(tag: String, markdown: String, step: Int) {
        recorded.withLock { $0.append("text \(tag) \(markdown)") }
    }

    func flush() throws(TelemetryError) {
        recorded.withLock { $0.append("flush") }
        if let failure { throw failure }
    }

    func close() throws(TelemetryError) {
        recorded.withLock { $0.append("close") }
        if let failure { throw failure }
    }
}
