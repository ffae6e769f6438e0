import ArgumentParser
import CommandLineOptions
import Foundation
import NN

/// `meow-bench core`: GEMM, MLP forward/backward, Adam and activation kernels.
struct CoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "core",
        abstract: "Benchmark the numeric core (BLAS and pure-Swift GEMM, MLPs, Adam, activations).")

    @Option(help: "OpenBLAS kernel core (OPENBLAS_CORETYPE), e.g. SkylakeX; default: from MEOW_BLAS_CORE or CPUID.")
    var blasCore: String?

    @Option(help: "OpenBLAS threads.")
    var blasThreads: Int = 1

    @Flag(help: "Do not load OpenBLAS: every GEMM runs the pure-Swift kernel.")
    var noBlas = false

    @Option(help: "Timed repetitions per measurement (the median is reported).")
    var repetitions: Int = 31

    @Option(help: "Write the results as JSON to this path.")
    var json: String?

    @Option(help: "Comma-separated sections to run: gemm, mlp, update, adam, activations.")
    var only: String = "gemm,mlp,update,adam,activations"

    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        guard blasThreads >= 1 else { throw ValidationError("--blas-threads must be at least 1.") }
        guard repetitions >= 3 else { throw ValidationError("--repetitions must be at least 3.") }
        let known: Set<String> = ["gemm", "mlp", "update", "adam", "activations"]
        for section in only.split(separator: ",") where !known.contains(String(section)) {
            throw ValidationError("Unknown section '\(section)' in --only; use any of \(known.sorted().joined(separator: ", ")).")
        }
    }

    func run() throws {
        _ = logging.bootstrap(label: "meow.bench")
        var config = BLASConfiguration.fromEnvironment()
        if let blasCore { config.core = blasCore }
        config.threads = blasThreads
        if noBlas { config.enabled = false }
        let info = BLAS.load(config)
        info.logLines.forEach { print($0) }
        let bench = CoreMeasurements(repetitions: repetitions)
        var results = CoreResults(blas: info.summary, kernel: info.kernel)
        let sections = Set(only.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
        if sections.contains("gemm") { results.gemm = bench.gemm(blasLoaded: info.loaded) }
        if sections.contains("mlp") { results.mlp = bench.mlps() }
        if sections.contains("update") { results.update = bench.meowLikeUpdate() }
        if sections.contains("adam") { results.adam = bench.adam() }
        if sections.contains("activations") { results.activations = bench.activations() }
        results.printTable()
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(results).write(to: URL(fileURLWithPath: json))
            print("wrote \(json)")
        }
    }
}
