import ArgumentParser
import Learning

/// Every `MEowConfig` field as an optional flag, reusable by any executable that builds an agent.
///
/// A flag left out keeps the preset's value (`--env` picks the preset). Names are the
/// config fields in kebab case; `--steps` is `totalSteps`. Validation happens in
/// `ConfigResolver` (Learning), which names the flag to change.
public struct MEowOptions: ParsableArguments {
    @Option(help: "Temperature α.") public var alpha: Float?
    @Option(help: "Discount γ.") public var gamma: Float?
    @Option(help: "Polyak rate τ of the target network.") public var tau: Float?
    @Option(help: "Lower bound of log σ(s).") public var logSigmaMin: Float?
    @Option(help: "Upper bound of log σ(s).") public var logSigmaMax: Float?
    @Option(help: "Hidden width of h_σ and the coupling networks.") public var flowHidden: Int?
    @Option(help: "Hidden width of the reward-shift heads.") public var shiftHidden: Int?
    @Option(help: "Number of additive coupling layers (even).") public var couplingLayers: Int?
    @Option(help: "Dropout probability in the coupling networks.") public var couplingDropout: Float?
    @Flag(inversion: .prefixedNo, help: "Learnable reward shifting (off gives Vanilla MEow).") public var rewardShift: Bool?
    @Flag(inversion: .prefixedNo, help: "Shifting-based clipped double Q.") public var clippedDoubleQ: Bool?
    @Option(help: "Adam learning rate.") public var learningRate: Float?
    @Option(help: "Global gradient-norm clip.") public var gradClip: Float?
    @Option(help: "Replay batch size.") public var batchSize: Int?
    @Option(help: "Replay capacity in transitions.") public var bufferSize: Int?
    @Option(help: "Random-action steps before learning starts.") public var learningStarts: Int?
    @Option(help: "Gradient steps per environment step.") public var updatesPerStep: Int?
    @Option(name: [.customLong("steps"), .customLong("total-steps")], help: "Environment steps in the run.")
    public var totalSteps: Int?
    @Option(help: "Evaluate every this many steps (0: off).") public var evalEvery: Int?
    @Option(help: "Evaluation episodes (seeds 0 ..< N).") public var evalEpisodes: Int?
    @Flag(inversion: .prefixedNo, help: "Evaluate with z₀ = 0 rather than sampling.") public var deterministicEval: Bool?
    @Option(help: "Run seed.") public var seed: UInt64?

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
