import ArgumentParser
import Learning

/// Every `RunSettings` field as an optional flag; a flag left out keeps the config file's value or the default.
///
/// Names and help come from `RunSettings.settings`; the BLAS fields are `BLASOptions`, which
/// executables without run settings share. Tests/CommandLineOptionsTests checks that the two
/// groups' flags are exactly the table's.
public struct RunOptions: ParsableArguments {
    public init() {}

    @Option(name: .of(run: \.expName), help: .of(run: \.expName)) var expName: String?
    @Option(name: .of(run: \.runDir), help: .of(run: \.runDir)) var runDir: String?
    @Option(name: .of(run: \.checkpointEvery), help: .of(run: \.checkpointEvery)) var checkpointEvery: Int?
    @Option(name: .of(run: \.keepCheckpoints), help: .of(run: \.keepCheckpoints)) var keepCheckpoints: Int?
    @Flag(name: .of(run: \.checkpointReplay), inversion: .prefixedNo, help: .of(run: \.checkpointReplay))
    var checkpointReplay: Bool?
    @Option(name: .of(run: \.replayChunkMiB), help: .of(run: \.replayChunkMiB)) var replayChunkMiB: Int?
    @Option(name: .of(run: \.metricsListen), help: .of(run: \.metricsListen)) var metricsListen: String?

    /// The flags given, as overrides of the file's (or default) settings; BLAS flags join from `blas`.
    public func overrides(blas: BLASOptions) -> RunSettingsOverrides {
        CommandLineOptions.overrides(from: self, blas)
    }
}
