/// Every MEow hyperparameter, with its default and where it comes from.
///
/// Every field has one entry in `MEowConfig.hyperparameters` (Hyperparameters.swift): its
/// kebab-case name (`logSigmaMax` is `--log-sigma-max` and the config key `log-sigma-max`),
/// aliases and help, from which the flags, the config keys and the docs are derived.
/// The values of each preset come from docs/algorithm.md
/// §6 (the official code's per-environment settings); `validate()`
/// reports a mistake in one sentence that names the field.
public struct MEowConfig: Sendable, Equatable, Codable {
    // MARK: Soft Bellman objective (docs/algorithm.md §4.1)

    /// Temperature α. Fixed per environment: the official autotune branch is dead code (docs/algorithm.md §3.6, §7.10).
    public var alpha: Float = 0.2
    /// Discount γ.
    public var gamma: Float = 0.99
    /// Polyak rate τ of the target network, applied after every gradient step.
    public var tau: Float = 0.005

    // MARK: Flow architecture (docs/algorithm.md §2)

    /// Lower bound of the squashed log σ(s) (§2.1).
    public var logSigmaMin: Float = -5.0
    /// Upper bound of the squashed log σ(s); HalfCheetah uses 2.0.
    public var logSigmaMax: Float = -0.3
    /// Hidden width of h_σ and the four coupling networks.
    public var flowHidden: Int = 64
    /// Hidden width of the reward-shift heads b₁, b₂.
    public var shiftHidden: Int = 256
    /// Number of additive coupling layers (masks m, 1−m, m, 1−m, ...).
    public var couplingLayers: Int = 4
    /// Dropout probability inside the coupling networks (train mode only).
    public var couplingDropout: Float = 0.1

    // MARK: Ablations (docs/algorithm.md §6.6)

    /// Learnable Reward Shifting: add α·b(s) to both Q and V (§4.3). Off gives "Vanilla" MEow.
    public var rewardShift: Bool = true
    /// Shifting-based Clipped Double Q: two shift heads, target takes the min (§4.4). Needs `rewardShift`.
    public var clippedDoubleQ: Bool = true

    // MARK: Optimisation (docs/algorithm.md §4.7, §5, §6.1)

    /// Adam learning rate (default betas and eps, no weight decay).
    public var learningRate: Float = 1e-3
    /// Global L2 gradient-norm clip.
    public var gradClip: Float = 30
    /// Replay batch size.
    public var batchSize: Int = 256
    /// Replay capacity in transitions.
    public var bufferSize: Int = 1_000_000
    /// Uniform random actions while the step count is below this; updates start once it is exceeded (docs/algorithm.md §5.1, §7.12).
    public var learningStarts: Int = 5_000
    /// Gradient steps per environment step.
    public var updatesPerStep: Int = 1

    // MARK: Run length and evaluation (docs/algorithm.md §5.4)

    /// Environment steps in the run.
    public var totalSteps: Int = 1_000_000
    /// Deterministic evaluation every this many environment steps (0 turns it off).
    public var evalEvery: Int = 10_000
    /// Evaluation episodes, reset with seeds 0 ..< evalEpisodes.
    public var evalEpisodes: Int = 10
    /// Evaluate with z₀ = 0 (the official README's choice) rather than sampling.
    public var deterministicEval: Bool = true
    /// Run seed: network initialisation, exploration, dropout and replay sampling derive from it.
    public var seed: UInt64 = 1

    public init() {}
}

// MARK: - Presets

extension MEowConfig {
    /// The environment presets, by the name the CLI takes.
    public static let presetNames = ["hopper", "halfcheetah", "walker2d", "ant", "humanoid", "pendulum", "multigoal", "mountaincar"]

    /// The preset for `name`, or nil when there is none.
    public static func preset(_ name: String) -> MEowConfig? {
        var c = MEowConfig()
        switch name.lowercased() {
        // MuJoCo, §6.2.
        case "hopper":
            (c.alpha, c.tau, c.learningStarts, c.totalSteps) = (0.25, 0.005, 5_000, 1_500_000)
        case "halfcheetah":
            (c.alpha, c.tau, c.learningStarts, c.totalSteps) = (0.25, 0.003, 10_000, 1_500_000)
            c.logSigmaMax = 2.0
        case "walker2d":
            (c.alpha, c.tau, c.learningStarts, c.totalSteps) = (0.1, 0.005, 10_000, 4_000_000)
        case "ant":
            (c.alpha, c.tau, c.learningStarts, c.totalSteps) = (0.05, 0.0001, 5_000, 4_000_000)
        case "humanoid":
            (c.alpha, c.tau, c.learningStarts, c.totalSteps) = (0.125, 0.0005, 5_000, 5_000_000)
        // Pendulum-v1, the reference run of docs/algorithm.md §6.3, §8.3.
        case "pendulum":
            (c.alpha, c.tau, c.learningStarts, c.totalSteps) = (0.2, 0.005, 1_000, 20_000)
            c.evalEvery = 1_000
        // The 2-D multi-goal toy, docs/algorithm.md §6.4: σ ∈ [e^−2, e^1].
        case "multigoal":
            (c.alpha, c.gamma, c.tau, c.learningStarts, c.totalSteps) = (2.5, 0.9, 0.0005, 1_000, 4_000)
            (c.logSigmaMin, c.logSigmaMax) = (-2.0, 1.0)
            c.evalEvery = 800
        // MountainCarContinuous-v0: no official preset; the Pendulum settings with a longer run.
        case "mountaincar":
            (c.alpha, c.tau, c.learningStarts, c.totalSteps) = (0.2, 0.005, 5_000, 50_000)
            c.evalEvery = 5_000
        default:
            return nil
        }
        return c
    }
}

// MARK: - Validation

/// A configuration value that cannot work, named and explained.
public struct MEowConfigError: Error, Equatable, CustomStringConvertible {
    /// The field, as the config file and the CLI spell it.
    public let field: String
    /// What is expected, in one sentence.
    public let expected: String
    public var description: String { "invalid \(field): \(expected)" }
}

extension MEowConfig {
    /// Checks every field; throws the first mistake, naming the field and what it needs.
    public func validate() throws(MEowConfigError) {
        func need(_ ok: Bool, _ field: String, _ expected: String) throws(MEowConfigError) {
            if !ok { throw MEowConfigError(field: field, expected: expected) }
        }
        try need(alpha.isFinite && alpha > 0, "alpha", "a positive temperature, got \(alpha)")
        try need(gamma.isFinite && gamma >= 0 && gamma <= 1, "gamma", "a discount in [0, 1], got \(gamma)")
        try need(tau.isFinite && tau > 0 && tau <= 1, "tau", "a Polyak rate in (0, 1], got \(tau)")
        try need(logSigmaMin.isFinite && logSigmaMax.isFinite && logSigmaMin < logSigmaMax,
                 "log-sigma-min", "log-sigma-min below log-sigma-max, got [\(logSigmaMin), \(logSigmaMax)]")
        try need(flowHidden > 0, "flow-hidden", "a positive width, got \(flowHidden)")
        try need(shiftHidden > 0, "shift-hidden", "a positive width, got \(shiftHidden)")
        try need(couplingLayers >= 0 && couplingLayers % 2 == 0, "coupling-layers",
                 "an even count so that masks alternate m, 1−m, got \(couplingLayers)")
        try need(couplingDropout >= 0 && couplingDropout < 1, "coupling-dropout",
                 "a probability in [0, 1), got \(couplingDropout)")
        try need(!clippedDoubleQ || rewardShift, "clipped-double-q",
                 "reward-shift to be on, because SCDQ takes the min over the two shift heads")
        try need(learningRate.isFinite && learningRate > 0, "learning-rate", "a positive rate, got \(learningRate)")
        try need(gradClip.isFinite && gradClip > 0, "grad-clip", "a positive norm, got \(gradClip)")
        try need(batchSize > 0, "batch-size", "a positive size, got \(batchSize)")
        try need(bufferSize >= batchSize, "buffer-size", "at least batch-size (\(batchSize)), got \(bufferSize)")
        try need(learningStarts >= 0, "learning-starts", "a non-negative step count, got \(learningStarts)")
        try need(updatesPerStep >= 1, "updates-per-step", "at least 1, got \(updatesPerStep)")
        try need(totalSteps > 0, "total-steps", "a positive step count, got \(totalSteps)")
        try need(evalEvery >= 0, "eval-every", "0 (off) or a positive step count, got \(evalEvery)")
        try need(evalEpisodes > 0, "eval-episodes", "a positive count, got \(evalEpisodes)")
    }
}
