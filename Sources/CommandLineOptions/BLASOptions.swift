import ArgumentParser
import Foundation
import Learning
import Tensor

/// `--blas-core` and `--blas-threads`, on top of MEOW_BLAS_CORE / MEOW_BLAS_THREADS.
///
/// Names and help come from `RunSettings.settings` (the `run` keys `blas-core`, `blas-threads`).
public struct BLASOptions: ParsableArguments {
    @Option(name: .of(run: \.blasCore), help: .of(run: \.blasCore)) public var blasCore: String?
    @Option(name: .of(run: \.blasThreads), help: .of(run: \.blasThreads)) public var blasThreads: Int?

    public init() {}

    public func validate() throws {
        if let blasThreads, blasThreads < 1 {
            throw ValidationError(
                "Invalid --blas-threads: expected at least 1 thread, got \(blasThreads); change --blas-threads.")
        }
    }

    /// Loads OpenBLAS with these choices and logs what runs to stderr.
    public func loadAndLog() {
        Self.loadAndLog(core: blasCore, threads: blasThreads)
    }

    /// Loads OpenBLAS with `core` and `threads` over MEOW_BLAS_CORE / MEOW_BLAS_THREADS.
    public static func loadAndLog(core: String?, threads: Int?) {
        var configuration = BLASConfiguration.fromEnvironment()
        if let core { configuration.core = core }
        if let threads { configuration.threads = threads }
        for line in BLAS.load(configuration).logLines {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }
}
