/// A MEow hyperparameter: an entry of `MEowConfig.hyperparameters`.
public typealias Hyperparameter = Setting<MEowConfig>

extension Setting<MEowConfig> {
    /// The field's value in `config` as `--help` writes it ("0.99", "on").
    public func describe(in config: MEowConfig) -> String {
        switch field {
        case let .float(path): "\(config[keyPath: path])"
        case let .int(path): "\(config[keyPath: path])"
        case let .uint64(path): "\(config[keyPath: path])"
        case let .bool(path): config[keyPath: path] ? "on" : "off"
        case let .string(path): config[keyPath: path]
        case let .optionalInt(path): config[keyPath: path].map(String.init) ?? "none"
        case let .optionalString(path): config[keyPath: path] ?? "none"
        }
    }

    /// Each distinct value among the presets, with the presets that use it, in `presetNames` order.
    public var presetValues: [(value: String, presets: [String])] {
        var groups: [(value: String, presets: [String])] = []
        for name in MEowConfig.presetNames {
            guard let preset = MEowConfig.preset(name) else { continue }
            let value = describe(in: preset)
            if let index = groups.firstIndex(where: { $0.value == value }) {
                groups[index].presets.append(name)
            } else {
                groups.append((value, [name]))
            }
        }
        return groups
    }

    /// The presets' values as one phrase: "0.25: hopper, halfcheetah; 0.1: walker2d; ...".
    public var presetValuesPhrase: String {
        presetValues.map { "\($0.value): \($0.presets.joined(separator: ", "))" }.joined(separator: "; ")
    }

    /// What `--help` says the default is: "(default: 0.99)", or for a per-preset field
    /// "(default: the --env preset's; 0.25: hopper, halfcheetah; 0.1: walker2d; ...)".
    public var defaultDescription: String {
        switch defaultIs {
        case .fixed: "(default: \(describe(in: MEowConfig())))"
        case .perPreset: "(default: the --env preset's; \(presetValuesPhrase))"
        }
    }
}

extension MEowConfig: SettingsTable {
    public static var settings: [Hyperparameter] { hyperparameters }

    /// Every hyperparameter, in the order `meow config` prints them (docs/configuration.md).
    public static let hyperparameters: [Hyperparameter] = [
        // Soft Bellman objective (docs/algorithm.md §4.1).
        .init(.float(\.alpha), "alpha", .perPreset, help: "Temperature α.",
              note: "Fixed per environment (docs/algorithm.md §3.6)."),
        .init(.float(\.gamma), "gamma", .perPreset, help: "Discount γ.", note: "In [0, 1]."),
        .init(.float(\.tau), "tau", .perPreset, help: "Polyak rate τ of the target network.",
              note: "In (0, 1], applied after every gradient step."),
        // Flow architecture (docs/algorithm.md §2).
        .init(.float(\.logSigmaMin), "log-sigma-min", .perPreset, help: "Lower bound of log σ(s).",
              note: "Squashed, docs/algorithm.md §2.1; below `log-sigma-max`."),
        .init(.float(\.logSigmaMax), "log-sigma-max", .perPreset, help: "Upper bound of log σ(s)."),
        .init(.int(\.flowHidden), "flow-hidden", .fixed, help: "Hidden width of h_σ and the coupling networks."),
        .init(.int(\.shiftHidden), "shift-hidden", .fixed, help: "Hidden width of the reward-shift heads.",
              note: "The heads b₁, b₂ of docs/algorithm.md §4.3."),
        .init(.int(\.couplingLayers), "coupling-layers", .fixed, help: "Number of additive coupling layers (even)."),
        .init(.float(\.couplingDropout), "coupling-dropout", .fixed,
              help: "Dropout probability in the coupling networks.", note: "In [0, 1); training only."),
        // Ablations (docs/algorithm.md §6.6).
        .init(.bool(\.rewardShift), "reward-shift", .fixed, help: "Learnable reward shifting (off gives Vanilla MEow).",
              note: "docs/algorithm.md §4.3."),
        .init(.bool(\.clippedDoubleQ), "clipped-double-q", .fixed, help: "Shifting-based clipped double Q.",
              note: "docs/algorithm.md §4.4; needs `reward-shift`."),
        // Optimisation (docs/algorithm.md §4.7, §5, §6.1).
        .init(.float(\.learningRate), "learning-rate", .fixed, help: "Adam learning rate.",
              note: "Default betas and epsilon, no weight decay."),
        .init(.float(\.gradClip), "grad-clip", .fixed, help: "Global gradient-norm clip.", note: "L2 norm."),
        .init(.int(\.batchSize), "batch-size", .fixed, help: "Replay batch size."),
        .init(.int(\.bufferSize), "buffer-size", .fixed, help: "Replay capacity in transitions.",
              note: "Capped at `total-steps`; at least `batch-size`."),
        .init(.int(\.learningStarts), "learning-starts", .perPreset, help: "Random-action steps before learning starts.",
              note: "Updates start once the step count exceeds it (docs/algorithm.md §5.1). Also the refill length "
                  + "of a resume without a replay snapshot (docs/checkpoints.md)."),
        .init(.int(\.updatesPerStep), "updates-per-step", .fixed, help: "Gradient steps per environment step."),
        // Run length and evaluation (docs/algorithm.md §5.4).
        .init(.int(\.totalSteps), "total-steps", aliases: ["steps"], .perPreset, help: "Environment steps in the run."),
        .init(.int(\.evalEvery), "eval-every", .perPreset, help: "Evaluate every this many steps (0: off).",
              note: "Deterministic when `deterministic-eval` is on."),
        .init(.int(\.evalEpisodes), "eval-episodes", .fixed, help: "Evaluation episodes (seeds 0 ..< N)."),
        .init(.bool(\.deterministicEval), "deterministic-eval", .fixed, help: "Evaluate with z₀ = 0 rather than sampling."),
        .init(.uint64(\.seed), "seed", .fixed, help: "Run seed.",
              note: "Initialisation, exploration, dropout, replay sampling and the environment derive from it."),
    ]

    /// The table's entry for `field`; nil for a key path that is not a hyperparameter.
    public static func hyperparameter(_ field: PartialKeyPath<MEowConfig>) -> Hyperparameter? {
        setting(field)
    }

    /// The table's entry for a kebab-case name; nil for an unknown name.
    public static func hyperparameter(named name: String) -> Hyperparameter? {
        setting(named: name)
    }
}
