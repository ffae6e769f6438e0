import Foundation
import Testing

@testable import Learning

/// Whether python3 can import TensorBoard's event loader (else the suite shows as skipped).
private let tensorBoardAvailable: Bool = {
    (try? python(["-c", "from tensorboard.backend.event_processing.event_accumulator import EventAccumulator"]))?
        .status == 0
}()

/// Reads every event file of a directory with TensorBoard's loader; prints {tag: [[step, value], ...]}.
private let readScalars = """
    import json, sys
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(sys.argv[1], size_guidance={"scalars": 0})
    acc.Reload()
    json.dump({t: [[e.step, e.value] for e in acc.Scalars(t)] for t in acc.Tags()["scalars"]}, sys.stdout)
    """

private func python(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3"] + arguments
    let output = Pipe(), error = Pipe()
    process.standardOutput = output
    process.standardError = error
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
}

@Suite(.enabled(if: tensorBoardAvailable, "python3 cannot import tensorboard (pip install tensorboard)"))
struct TensorBoardMetricsTests {
    @Test func theEventFilesHoldTheCSVsValuesAcrossAResume() throws {
        let directory = temporaryRunDirectory()
        var settings = RunSettings()
        settings.checkpointReplay = true
        let options = TrainerOptions(progress: .off, lossLogInterval: 3, stopAfterSteps: 25)
        _ = try LocalTrainerTests.makeTrainer(
            settings: settings, log: EventLog(), directory: directory, options: options
        ).0.run()
        let log = EventLog()
        _ = try LocalTrainer(
            resuming: try CheckpointStore.load(directory), environment: ScriptedEnvironment(role: "train", log: log),
            evaluationEnvironment: ScriptedEnvironment(role: "eval", log: log),
            options: TrainerOptions(progress: .off, lossLogInterval: 3), makeAgent: { _, _, _ in ScriptedAgent(log: log) }
        ).run()

        let result = try python(["-c", readScalars, directory.path])
        #expect(result.status == 0, "\(result.error)")
        let scalars = try JSONDecoder().decode([String: [[Double]]].self, from: Data(result.output.utf8))
        let rows = try metricRows(in: directory).rows
        for tag in ["Test/return", "losses/qf_loss"] {
            let csv = rows.filter { $0.tag == tag }
            let events = try #require(scalars[tag], "no \(tag) in the event files")
            #expect(csv.count >= 3, "\(tag) should be logged in both sessions")
            #expect(events.map { Int($0[0]) } == csv.map(\.step), "\(tag) steps")
            #expect(events.map { Float($0[1]) } == csv.map { Float($0.value)! }, "\(tag) values")
        }
    }
}
