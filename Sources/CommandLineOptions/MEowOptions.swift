import ArgumentParser
import Learning

/// Every `MEowConfig` field as an optional flag, reusable by any executable that builds an agent.
///
/// A flag left out keeps the preset's value (`--env` picks the preset). Names are the
/// config fields in kebab case; `--steps` is `totalSteps`. Validation happens in
/// `ConfigResolver` (Learning), which names the flag to change.
public struct MEowOptions: ParsableArguments {
    @Option(help: withPresetDefault("Temperature α.", field: "alpha")) public var alpha: Float?
    @Option(help: withPresetDefault("Discount γ.", field: "gamma")) public var gamma: Float?
    @Option(help: withPresetDefault("Polyak rate τ of the target network.", field: "tau"))
    public var tau: Float?
    @Option(help: withPresetDefault("Lower bound of log σ(s).", field: "logSigmaMin"))
    public var logSigmaMin: Float?
    @Option(help: withPresetDefault("Upper bound of log σ(s).", field: "logSigmaMax"))
    public var logSigmaMax: Float?
    @Option(help: withPresetDefault("Hidden width of h_σ and the coupling networks.", field: "flowHidden"))
    public var flowHidden: Int?
    @Option(help: withPresetDefault("Hidden width of the reward-shift heads.", field: "shiftHidden"))
    public var shiftHidden: Int?
    @Option(help: withPresetDefault("Number of additive coupling layers (even).", field: "couplingLayers"))
    public var couplingLayers: Int?
    @Option(help: withPresetDefault("Dropout probability in the coupling networks.", field: "couplingDropout"))
    public var couplingDropout: Float?
    @Flag(inversion: .prefixedNo,
        help: withPresetDefault("Learnable reward shifting (off gives Vanilla MEow).", field: "rewardShift"))
    public var rewardShift: Bool?
    @Flag(inversion: .prefixedNo, help: withPresetDefault("Shifting-based clipped double Q.", field: "clippedDoubleQ"))
    public var clippedDoubleQ: Bool?
    @Option(help: withPresetDefault("Adam learning rate.", field: "learningRate"))
    public var learningRate: Float?
    @Option(help: withPresetDefault("Global gradient-norm clip.", field: "gradClip"))
    public var gradClip: Float?
    @Option(help: withPresetDefault("Replay batch size.", field: "batchSize")) public var batchSize: Int?
    @Option(help: withPresetDefault("Replay capacity in transitions.", field: "bufferSize"))
    public var bufferSize: Int?
    @Option(help: withPresetDefault("Random-action steps before learning starts.", field: "learningStarts"))
    public var learningStarts: Int?
    @Option(help: withPresetDefault("Gradient steps per environment step.", field: "updatesPerStep"))
    public var updatesPerStep: Int?
    @Option(name: [.customLong("steps"), .customLong("total-steps")],
        help: withPresetDefault("Environment steps in the run.", field: "totalSteps"))
    public var totalSteps: Int?
    @Option(help: withPresetDefault("Evaluate every this many steps (0: off).", field: "evalEvery"))
    public var evalEvery: Int?
    @Option(help: withPresetDefault("Evaluation episodes (seeds 0 ..< N).", field: "evalEpisodes"))
    public var evalEpisodes: Int?
    @Flag(inversion: .prefixedNo,
        help: withPresetDefault("Evaluate with z₀ = 0 rather than sampling.", field: "deterministicEval"))
    public var deterministicEval: Bool?
    @Option(help: withPresetDefault("Run seed.", field: "seed")) public var seed: UInt64?

    public init() {}

    /// The flags given, as overrides of a preset.
    public var overrides: ConfigOverrides {
        var o = ConfigOverrides()
        (o.alpha, o.gamma, o.tau) = (alpha, gamma, tau)
        (o.logSigmaMin, o.logSigmaMax) = (logSigmaMin, logSigmaMax)
        (o.flowHidden, o.shiftHidden, o.couplingLayers, o.couplingDropout) =
            (flowHidden, shiftHidden, couplingLayers, couplingDropout)
        (o.rewardShift, o.clippedDoubleQ) = (rewardShift, clippedDoubleQ)
        (o.learningRate, o.gradClip, o.batchSize, o.bufferSize) = (learningRate, gradClip, batchSize, bufferSize)
        (o.learningStarts, o.updatesPerStep, o.totalSteps) = (learningStarts, updatesPerStep, totalSteps)
        (o.evalEvery, o.evalEpisodes, o.deterministicEval, o.seed) = (evalEvery, evalEpisodes, deterministicEval, seed)
        return o
    }
}

/// `text` followed by the presets' default for the `MEowConfig` field (`ConfigResolver.presetDefault`).
private func withPresetDefault(_ text: String, field: String) -> ArgumentHelp {
    ArgumentHelp(text + " " + ConfigResolver.presetDefault(field: field))
}
