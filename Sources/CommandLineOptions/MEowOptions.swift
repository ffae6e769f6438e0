import ArgumentParser
import Learning
import MEow

/// Every `MEowConfig` field as an optional flag, reusable by any executable that builds an agent.
///
/// A flag left out keeps the preset's value (`--env` picks the preset). ArgumentParser needs
/// one stored property per flag, so each is declared here, but its names and help come from
/// its entry in `MEowConfig.hyperparameters` and `overrides` walks the properties
/// (SettingsOptions.swift), so nothing else is written per flag; Tests/CommandLineOptionsTests
/// checks that the flags are exactly the table's. Validation happens in `ConfigResolver` (Learning), which names the flag to change.
public struct MEowOptions: ParsableArguments {
    @Option(name: .of(\.alpha), help: .of(\.alpha)) var alpha: Float?
    @Option(name: .of(\.gamma), help: .of(\.gamma)) var gamma: Float?
    @Option(name: .of(\.tau), help: .of(\.tau)) var tau: Float?
    @Option(name: .of(\.logSigmaMin), help: .of(\.logSigmaMin)) var logSigmaMin: Float?
    @Option(name: .of(\.logSigmaMax), help: .of(\.logSigmaMax)) var logSigmaMax: Float?
    @Option(name: .of(\.flowHidden), help: .of(\.flowHidden)) var flowHidden: Int?
    @Option(name: .of(\.shiftHidden), help: .of(\.shiftHidden)) var shiftHidden: Int?
    @Option(name: .of(\.couplingLayers), help: .of(\.couplingLayers)) var couplingLayers: Int?
    @Option(name: .of(\.couplingDropout), help: .of(\.couplingDropout)) var couplingDropout: Float?
    @Flag(name: .of(\.rewardShift), inversion: .prefixedNo, help: .of(\.rewardShift)) var rewardShift: Bool?
    @Flag(name: .of(\.clippedDoubleQ), inversion: .prefixedNo, help: .of(\.clippedDoubleQ)) var clippedDoubleQ: Bool?
    @Option(name: .of(\.learningRate), help: .of(\.learningRate)) var learningRate: Float?
    @Option(name: .of(\.gradClip), help: .of(\.gradClip)) var gradClip: Float?
    @Option(name: .of(\.batchSize), help: .of(\.batchSize)) var batchSize: Int?
    @Option(name: .of(\.bufferSize), help: .of(\.bufferSize)) var bufferSize: Int?
    @Option(name: .of(\.learningStarts), help: .of(\.learningStarts)) var learningStarts: Int?
    @Option(name: .of(\.updatesPerStep), help: .of(\.updatesPerStep)) var updatesPerStep: Int?
    @Option(name: .of(\.totalSteps), help: .of(\.totalSteps)) var totalSteps: Int?
    @Option(name: .of(\.evalEvery), help: .of(\.evalEvery)) var evalEvery: Int?
    @Option(name: .of(\.evalEpisodes), help: .of(\.evalEpisodes)) var evalEpisodes: Int?
    @Flag(name: .of(\.deterministicEval), inversion: .prefixedNo, help: .of(\.deterministicEval))
    var deterministicEval: Bool?
    @Option(name: .of(\.seed), help: .of(\.seed)) var seed: UInt64?

    public init() {}

    /// The flags given, as overrides of a preset.
    public var overrides: ConfigOverrides { CommandLineOptions.overrides(from: self) }
}
