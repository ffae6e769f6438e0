import MEow

/// Every operational setting of a run: where it writes, how it checkpoints, how it computes.
///
/// The counterpart of `MEowConfig` for what does not change what is learned. Both load
/// from the same config file (the `run` object beside `meow`, docs/configuration.md),
/// field names in kebab case are the keys and the CLI flags (`RunSettings.settings` declares
/// each), and both are stored in
/// the run directory's config.json and in every checkpoint manifest.
public struct RunSettings: Sendable, Equatable, Codable {
    /// Experiment name, the second part of the default run directory's name.
    public var expName: String = "meow"
    /// Run directory; nil gives runs/<env>__<exp-name>__<seed>__<yyyyMMdd-HHmmss>.
    public var runDir: String? = nil
    /// Write a checkpoint every this many environment steps (0: only at the end, on a stop request and for a new best).
    public var checkpointEvery: Int = 10_000
    /// Periodic checkpoints kept; older ones are deleted (the best checkpoint is never deleted).
    public var keepCheckpoints: Int = 3
    /// Include a replay snapshot in periodic checkpoints, for a resume that continues with the same buffer.
    public var checkpointReplay: Bool = false
    /// Largest replay snapshot chunk file, in MiB.
    public var replayChunkMiB: Int = 64
    /// OpenBLAS threads; nil takes MEOW_BLAS_THREADS, else 1 (robust when cores are shared).
    public var blasThreads: Int? = nil
    /// OpenBLAS kernel core (e.g. SkylakeX, Haswell); nil chooses from the CPU.
    public var blasCore: String? = nil
    /// Prometheus endpoint address (host:port) for the learner service; the single-process trainer does not serve it.
    public var metricsListen: String? = nil

    public init() {}

    /// Checks every field; throws the first mistake, naming the key and what it needs.
    public func validate() throws(SettingError) {
        func need(_ ok: Bool, _ key: String, _ expected: String) throws(SettingError) {
            if !ok { throw SettingError(field: key, expected: expected) }
        }
        try need(!expName.isEmpty && !expName.contains("/"), "exp-name",
                 "a non-empty name without '/', got '\(expName)'")
        try need(runDir.map { !$0.isEmpty } ?? true, "run-dir", "a directory path or null, got an empty string")
        try need(checkpointEvery >= 0, "checkpoint-every", "0 (off) or a positive step count, got \(checkpointEvery)")
        try need(keepCheckpoints >= 1, "keep-checkpoints", "at least 1 checkpoint, got \(keepCheckpoints)")
        try need(replayChunkMiB >= 1 && replayChunkMiB <= 4096, "replay-chunk-mib",
                 "a size in 1...4096 MiB, got \(replayChunkMiB)")
        try need(blasThreads.map { $0 >= 1 && $0 <= 1024 } ?? true, "blas-threads",
                 "a thread count in 1...1024 or null, got \(blasThreads.map(String.init) ?? "null")")
        try need(blasCore.map { !$0.isEmpty } ?? true, "blas-core", "a core name such as SkylakeX, or null")
        try need(metricsListen.map { !$0.isEmpty } ?? true, "metrics-listen", "an address host:port, or null")
    }
}

extension RunSettings: SettingsTable {
    /// Every run setting, in the order `meow config` prints them (docs/configuration.md); the
    /// flags (`RunOptions`, `BLASOptions`), the `run` keys and their docs table come from it.
    public static let settings: [Setting<RunSettings>] = [
        .init(.string(\.expName), "exp-name", help: "Experiment name, part of the default run directory name."),
        .init(.optionalString(\.runDir), "run-dir",
              help: "Run directory (default: runs/<env>__<exp-name>__<seed>__<time>; meow-learner: "
                  + "runs/<env>-learner; meow train --actors: runs/<env>-distributed).",
              note: "`null` gives the default."),
        .init(.int(\.checkpointEvery), "checkpoint-every",
              help: "Checkpoint every this many environment steps (0: only at the end, on stop and for a new best)."),
        .init(.int(\.keepCheckpoints), "keep-checkpoints", help: "Periodic checkpoints kept (the best is always kept).",
              note: "The newest are kept; at least 1."),
        .init(.bool(\.checkpointReplay), "checkpoint-replay",
              help: "Include a replay snapshot in checkpoints (exact resume of the buffer).",
              note: "A resume is then bit-identical to an uninterrupted run."),
        .init(.int(\.replayChunkMiB), "replay-chunk-mib", help: "Largest replay snapshot file, in MiB.",
              note: "From 1 to 4096; bounds the extra memory a snapshot needs."),
        .init(.optionalInt(\.blasThreads), "blas-threads", help: "OpenBLAS threads (default 1: robust when cores are shared).",
              note: "null takes `MEOW_BLAS_THREADS`."),
        .init(.optionalString(\.blasCore), "blas-core",
              help: "OpenBLAS kernel core (e.g. SkylakeX, Haswell); default: chosen from the CPU.",
              note: "null takes `MEOW_BLAS_CORE`."),
        .init(.optionalString(\.metricsListen), "metrics-listen",
              help: "Prometheus endpoint host:port (learner service); beyond loopback, /metrics needs the token.",
              note: "`meow train` does not serve it; scrapers send the token as `Authorization: Bearer` (docs/metrics.md)."),
    ]
}

/// A setting's value that cannot work, named and explained (the `RunSettings` twin of `MEowConfigError`).
public struct SettingError: Error, Equatable, CustomStringConvertible {
    /// The key, as the config file and the CLI spell it.
    public let field: String
    /// What is expected, in one sentence.
    public let expected: String
    public var description: String { "invalid \(field): \(expected)" }
}
