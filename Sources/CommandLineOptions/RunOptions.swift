import ArgumentParser
import Learning

/// Every `RunSettings` field as an optional flag; a flag left out keeps the config file's value or the default.
public struct RunOptions: ParsableArguments {
    public init() {}

    @Option(help: "Experiment name, part of the default run directory name.") var expName: String?
    @Option(help: ArgumentHelp("Run directory (default: runs/<env>__<exp-name>__<seed>__<time>; meow-learner: "
        + "runs/<env>-learner; meow train --actors: runs/<env>-distributed)."))
    var runDir: String?
    @Option(help: "Checkpoint every this many environment steps (0: only at the end, on stop and for a new best).")
    var checkpointEvery: Int?
    @Option(help: "Periodic checkpoints kept (the best is always kept).") var keepCheckpoints: Int?
    @Flag(inversion: .prefixedNo, help: "Include a replay snapshot in checkpoints (exact resume of the buffer).")
    var checkpointReplay: Bool?
    @Option(name: .customLong("replay-chunk-mib"), help: "Largest replay snapshot file, in MiB.")
    var replayChunkMiB: Int?
    @Option(help: "Prometheus endpoint host:port (learner service); beyond loopback, /metrics needs the token.")
    var metricsListen: String?

    /// The flags given, as overrides of the file's (or default) settings; BLAS flags join from `blas`.
    public func overrides(blas: BLASOptions) -> RunSettingsOverrides {
        var o = RunSettingsOverrides()
        (o.expName, o.runDir, o.checkpointEvery, o.keepCheckpoints) = (expName, runDir, checkpointEvery, keepCheckpoints)
        (o.checkpointReplay, o.replayChunkMiB, o.metricsListen) = (checkpointReplay, replayChunkMiB, metricsListen)
        (o.blasThreads, o.blasCore) = (blas.blasThreads, blas.blasCore)
        return o
    }
}
