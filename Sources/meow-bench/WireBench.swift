import ArgumentParser
import CommandLineOptions
import Foundation
import Telemetry
import Wire

/// `meow-bench wire`: encode and decode throughput of one TRANSITIONS batch.
///
/// The default is the batch an actor uploads for Hopper (256 transitions, 11-element
/// observations, 3-element actions). Each repeat times `iterations` encodes (or decodes) with a
/// monotonic clock; the reported figure is the median over repeats, so one preempted repeat on
/// a shared machine does not move it. Network latency belongs to the Transport benchmarks.
struct WireBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire",
        abstract: "Encode/decode throughput of a TRANSITIONS batch (MB/s and transitions/s).")

    @Option(help: "Transitions per batch.")
    var count: Int = 256

    @Option(help: "Elements per observation (Hopper: 11).")
    var obsDim: Int = 11

    @Option(help: "Elements per action (Hopper: 3).")
    var actionDim: Int = 3

    @Option(help: "Encodes (or decodes) per timed repeat.")
    var iterations: Int = 2000

    @Option(help: "Timed repeats; the median is reported.")
    var repeats: Int = 15

    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        guard count >= 1, obsDim >= 1, actionDim >= 1 else {
            throw ValidationError("--count, --obs-dim and --action-dim must each be at least 1.")
        }
        guard iterations >= 1, repeats >= 1 else {
            throw ValidationError("--iterations and --repeats must each be at least 1.")
        }
    }

    func run() throws {
        _ = logging.bootstrap(label: "meow.bench")
        let frame = Frame(.transitions(Self.batch(count: count, obsDim: obsDim, actionDim: actionDim)), requestID: 1)
        let bytes = try frame.encode()
        print("wire: TRANSITIONS n=\(count) obs=\(obsDim) act=\(actionDim), frame \(bytes.count) bytes, "
            + "\(iterations) ops x \(repeats) repeats (median)")

        var sink = 0
        let encode = try Self.medianSeconds(repeats: repeats) { () throws in
            for _ in 0 ..< iterations { sink &+= try frame.encode().count }
        }
        let decode = try Self.medianSeconds(repeats: repeats) { () throws in
            for _ in 0 ..< iterations {
                if case .transitions(let batch) = try Frame.decode(bytes).message { sink &+= batch.count }
            }
        }
        let checksum = try Self.medianSeconds(repeats: repeats) { () throws in
            for _ in 0 ..< iterations { sink &+= Int(CRC32.checksum(bytes)) & 1 }
        }
        for (name, seconds) in [("encode", encode), ("decode", decode), ("crc32 only", checksum)] {
            let perOp = seconds / Double(iterations)
            let megabytes = Double(bytes.count) / perOp / 1e6
            let transitions = Double(count) / perOp
            print(pad(name, 11) + pad(String(format: "%.2f us/op", perOp * 1e6), 14)
                + pad(String(format: "%.0f MB/s", megabytes), 12)
                + String(format: "%.2fM transitions/s", transitions / 1e6))
        }
        if sink == 42 { print("") }  // keeps the optimiser from discarding the work
    }

    /// A deterministic batch with plausible values (no RNG: the benchmark measures the codec).
    static func batch(count: Int, obsDim: Int, actionDim: Int) -> TransitionBatch {
        let observations = (0 ..< count * obsDim).map { Float(($0 * 37) % 1000) / 250 - 2 }
        return TransitionBatch(
            actorID: 1, runID: 0x0123_4567_89AB_CDEF, seq: 0, policyVersion: 1,
            observationSize: obsDim, actionSize: actionDim,
            episodeIDs: (0 ..< count).map { UInt64($0 / 100) }, stepIndices: (0 ..< count).map { UInt32($0 % 100) },
            observations: observations, nextObservations: observations.reversed(),
            actions: (0 ..< count * actionDim).map { Float(($0 * 13) % 200) / 100 - 1 },
            rewards: (0 ..< count).map { Float($0 % 7) / 3 }, doneFlags: (0 ..< count).map { $0 % 100 == 99 ? 1 : 0 })
    }

    /// The median wall time of `repeats` runs of `body`.
    static func medianSeconds(repeats: Int, _ body: () throws -> Void) throws -> Double {
        let clock = ContinuousClock()
        var samples: [Double] = []
        for _ in 0 ..< repeats {
            let elapsed = try clock.measure(body)
            samples.append(elapsed.seconds)
        }
        samples.sort()
        return samples[samples.count / 2]
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}
