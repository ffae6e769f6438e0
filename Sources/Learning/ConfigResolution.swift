import Environments
import Foundation
import MEow

/// Command-line overrides of a settings struct: a field not given keeps the preset's, the
/// config file's or the default value.
///
/// Fields are set and read by their key path (`overrides.tau = 0.01`); every one must be in
/// `Root.settings`, which `applied(to:)` walks. An optional field's override is its value
/// (`overrides.runDir = "runs/x"`): nil means not given. Executables fill it from their
/// `@OptionGroup`s and `ConfigResolver` applies it, so validation lives here where tests can reach it.
@dynamicMemberLookup
public struct Overrides<Root: SettingsTable>: Sendable, Equatable {
    /// The given values; only the fields named in `given` count.
    private var values = Root()
    /// The kebab-case names of the fields given.
    public private(set) var given: Set<String> = []

    public init() {}

    /// The override of `field`, nil when none was given.
    public subscript<V>(dynamicMember field: WritableKeyPath<Root, V>) -> V? {
        get { given.contains(Self.name(of: field)) ? values[keyPath: field] : nil }
        set { set(field, to: newValue) }
    }

    /// The override of an optional `field`, nil when none was given.
    public subscript<V>(dynamicMember field: WritableKeyPath<Root, V?>) -> V? {
        get { given.contains(Self.name(of: field)) ? values[keyPath: field] : nil }
        set { set(field, to: newValue.map { Optional($0) }) }
    }

    /// `base` with every given override written over it.
    public func applied(to base: Root) -> Root {
        var root = base
        for setting in Root.settings where given.contains(setting.name) {
            setting.copy(from: values, to: &root)
        }
        return root
    }

    public static func == (a: Overrides, b: Overrides) -> Bool {
        a.given == b.given && a.applied(to: Root()) == b.applied(to: Root())
    }

    private mutating func set<V>(_ field: WritableKeyPath<Root, V>, to value: V?) {
        let name = Self.name(of: field)
        if let value {
            values[keyPath: field] = value
            given.insert(name)
        } else {
            given.remove(name)
        }
    }

    private static func name<V>(of field: WritableKeyPath<Root, V>) -> String {
        guard let setting = Root.setting(field) else {
            preconditionFailure("\(field) is missing from \(Root.self).settings")
        }
        return setting.name
    }
}

/// Command-line overrides of `MEowConfig`: nil leaves the preset's (or the file's) value.
public typealias ConfigOverrides = Overrides<MEowConfig>

/// Command-line overrides of `RunSettings`: nil leaves the file's (or the default) value.
public typealias RunSettingsOverrides = Overrides<RunSettings>

/// A configuration mistake, reported in one sentence that says what to change.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// No preset and no simulation has this name.
    case unknownEnvironment(name: String, known: [String])
    /// A field's value cannot work; `flag` is the command-line flag that sets it.
    case invalidValue(flag: String, expected: String)
    /// The config file has a key no section knows; `suggestion` is a near miss that exists.
    case unknownKey(key: String, path: String, suggestion: String?)
    /// A key of the config file has a value of the wrong type or out of range.
    case invalidKey(key: String, path: String, expected: String)
    /// The config file cannot be read or is not a JSON object.
    case unreadableFile(path: String, reason: String)
    /// A resumed run was given a value that differs from its checkpoint's.
    case conflictsWithCheckpoint(key: String, given: String, stored: String)
    /// A combination of settings that cannot work, explained in one sentence.
    case invalid(String)

    public var description: String {
        switch self {
        case let .unknownEnvironment(name, known):
            "Unknown environment '\(name)': pass --env with one of \(known.joined(separator: ", "))."
        case let .invalidValue(flag, expected):
            "Invalid \(flag): expected \(expected); change \(flag)."
        case let .unknownKey(key, path, suggestion):
            "Unknown key '\(key)' in \(path)"
                + (suggestion.map { " (did you mean '\($0)'?)" } ?? " (docs/configuration.md lists the keys)")
                + "; rename or remove it."
        case let .invalidKey(key, path, expected):
            "Invalid '\(key)' in \(path): expected \(expected); change it in the file."
        case let .unreadableFile(path, reason):
            "Config file \(path) cannot be used: \(reason); fix the file or the --config path."
        case let .conflictsWithCheckpoint(key, given, stored):
            "'\(key)' is \(given) but the checkpoint being resumed was trained with \(stored); a resumed run keeps "
                + "its hyperparameters: drop the flag or key, or start a new run without --resume."
        case let .invalid(sentence):
            sentence
        }
    }

    /// Wraps the config's own validation error, naming the flag instead of the field.
    public init(_ error: MEowConfigError) {
        self = .invalidValue(flag: ConfigResolver.flag(forField: error.field), expected: error.expected)
    }
}

/// A validated configuration and the built-in environment it trains on.
public struct ResolvedConfiguration: Sendable, Equatable {
    /// The registry's canonical name (e.g. "pendulum" for "Pendulum-v1").
    public var environmentName: String
    public var config: MEowConfig
    /// The operational settings (defaults unless a config file or flags gave them).
    public var settings: RunSettings = RunSettings()
    /// A MuJoCo model file (absolute path) replacing the environment's built-in model; nil for the built-in one.
    public var modelPath: String?
    /// For a saved policy: the weights file to load, and the dimensions it records.
    public var policyFile: String?
    public var policyDimensions: PolicyDimensions?

    /// The effective configuration as a config file (what `meow config` prints and config.json holds).
    public var rendered: String {
        ConfigFile.render(environment: environmentName, model: modelPath, config: config, settings: settings)
    }
}

/// The observation and action dimensions a saved policy was built for.
public struct PolicyDimensions: Sendable, Equatable {
    public var observation: Int
    public var action: Int
}

/// Turns `--env` plus overrides into a checked `MEowConfig`.
public enum ConfigResolver {
    /// The environments this single-process trainer can run: a preset and a built-in simulation.
    public static var trainableEnvironments: [String] {
        EnvironmentRegistry.names.filter { MEowConfig.preset($0) != nil }
    }

    /// The preset for `environmentName` with `overrides` applied, validated.
    public static func resolve(
        environmentName: String, overrides: ConfigOverrides
    ) throws(ConfigurationError) -> ResolvedConfiguration {
        try resolve(environmentName: environmentName, configFile: nil, overrides: overrides)
    }

    /// The full precedence: the environment's preset, then the config file, then the flags.
    ///
    /// The environment is the flag's, else the file's `env`, else pendulum. A value that
    /// fails validation is blamed on whichever source set it: the flag if one was given,
    /// else the file's key, else the flag that would change it.
    public static func resolve(
        environmentName: String?, configFile: String?, overrides: ConfigOverrides,
        runOverrides: RunSettingsOverrides = RunSettingsOverrides(), modelPath: String? = nil
    ) throws(ConfigurationError) -> ResolvedConfiguration {
        let file = try configFile.map { path throws(ConfigurationError) in try ConfigFile.load(path) }
        let requested = environmentName ?? file?.environment ?? "pendulum"
        let name = try canonicalName(requested)
        let model = try checkedModel(modelPath ?? file?.model, environment: name,
                                     source: modelPath != nil ? "--model" : "'model' in \(configFile ?? "")")
        guard let preset = MEowConfig.preset(name) else {
            throw .unknownEnvironment(name: requested, known: trainableEnvironments)
        }
        var config = preset
        var settings = RunSettings()
        if let file, let path = configFile {
            try ConfigFile.apply(file.meow, keys: ConfigKeys.meow, section: "meow", path: path, to: &config)
            try ConfigFile.apply(file.run, keys: ConfigKeys.run, section: "run", path: path, to: &settings)
        }
        config = overrides.applied(to: config)
        settings = runOverrides.applied(to: settings)
        do {
            try config.validate()
        } catch {
            throw blame(error.field, error.expected, section: "meow", file: file?.meow, path: configFile,
                        flags: overrides.given)
        }
        do {
            try settings.validate()
        } catch {
            throw blame(error.field, error.expected, section: "run", file: file?.run, path: configFile,
                        flags: runOverrides.given)
        }
        return ResolvedConfiguration(environmentName: name, config: config, settings: settings, modelPath: model)
    }

    /// A model file for `environment` as an absolute path (so config.json and checkpoints still find
    /// it from another directory), or nil; the environment must be one MuJoCo simulates.
    public static func checkedModel(
        _ path: String?, environment: String, source: String = "--model"
    ) throws(ConfigurationError) -> String? {
        guard let path else { return nil }
        let accepting = EnvironmentRegistry.entries.filter(\.acceptsModelPath).map(\.name)
        guard (try? EnvironmentRegistry.entry(named: environment))?.acceptsModelPath == true else {
            throw .invalid("\(source) gives a MuJoCo model, but '\(environment)' is not a MuJoCo task; "
                + "a model file applies only to \(accepting.joined(separator: ", ")). Drop \(source) or change --env.")
        }
        guard !path.isEmpty else { throw .invalidValue(flag: "--model", expected: "a model file path") }
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }

    private static func blame(
        _ field: String, _ expected: String, section: String, file: [String: JSONValue]?, path: String?,
        flags: Set<String>
    ) -> ConfigurationError {
        if !flags.contains(field), let path, file?[field] != nil {
            return .invalidKey(key: "\(section).\(field)", path: path, expected: expected)
        }
        return .invalidValue(flag: flag(forField: field), expected: expected)
    }

    /// The configuration a saved policy was trained with, for `meow evaluate`.
    ///
    /// The policy says where it acts (`SavedPolicy`): the environment is `environmentName` when
    /// given, else the policy's own; the model file likewise `modelPath`, else the policy's
    /// (for its own environment). The network shape must match the saved weights, so the run's
    /// config (manifest or config.json) and the weights' metadata win over the preset;
    /// overrides still apply on top. `policyFile` is the weights to load.
    public static func resolve(
        policyPath: String, environmentName: String?, overrides: ConfigOverrides = ConfigOverrides(),
        modelPath: String? = nil
    ) throws -> ResolvedConfiguration {
        let saved = try SavedPolicy.open(policyPath)
        guard let requested = environmentName ?? saved.environment else {
            throw ConfigurationError.invalid(
                "\(policyPath) does not say which environment it was trained on (no 'environment' in its metadata, "
                    + "no config.json beside it); pass --env.")
        }
        let name = try canonicalName(requested)
        let sameEnvironment = saved.environment.map { (try? canonicalName($0)) == name } ?? true
        let model = modelPath ?? (sameEnvironment ? saved.model : nil)
        let config = saved.networkConfig(preset: MEowConfig.preset(name) ?? MEowConfig())
        var resolved = try validated(name: name, config: overrides.applied(to: config))
        resolved.modelPath = try checkedModel(model, environment: name)
        resolved.policyFile = saved.weightsFile
        resolved.policyDimensions = saved.observationDimension.flatMap { o in saved.actionDimension.map { (o, $0) } }
            .map { PolicyDimensions(observation: $0.0, action: $0.1) }
        return resolved
    }

    /// The command-line flag for a validation error's field: the table's for a hyperparameter
    /// (`total-steps` is `--steps`), else `--field`.
    public static func flag(forField field: String) -> String {
        MEowConfig.hyperparameter(named: field)?.flag ?? "--\(field)"
    }

    private static func canonicalName(_ name: String) throws(ConfigurationError) -> String {
        do {
            return try EnvironmentRegistry.entry(named: name).name
        } catch {
            throw .unknownEnvironment(name: name, known: trainableEnvironments)
        }
    }

    private static func validated(
        name: String, config: MEowConfig
    ) throws(ConfigurationError) -> ResolvedConfiguration {
        do {
            try config.validate()
        } catch {
            throw ConfigurationError(error)
        }
        return ResolvedConfiguration(environmentName: name, config: config)
    }
}
