import Foundation
import MEow
import Simulators

/// A JSON value as the config file holds it; numbers keep whether they were integers.
enum JSONValue: Equatable, Decodable {
    case null
    case bool(Bool)
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() {
            self = .null
        } else if let v = try? c.decode(Bool.self) {
            self = .bool(v)
        } else if let v = try? c.decode(Int64.self) {
            self = .integer(v)
        } else if let v = try? c.decode(UInt64.self) {
            self = .unsigned(v)
        } else if let v = try? c.decode(Double.self) {
            self = .number(v)
        } else if let v = try? c.decode(String.self) {
            self = .string(v)
        } else if let v = try? c.decode([String: JSONValue].self) {
            self = .object(v)
        } else {
            self = .array(try c.decode([JSONValue].self))
        }
    }

    /// What this value is, for error messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .integer, .unsigned: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// One key of a config file section: its name, documentation, and how to read and write it.
struct ConfigKey<Root>: @unchecked Sendable {  // Immutable; its closures capture only key paths, which are not marked Sendable.
    /// The key in kebab case, also the CLI flag without `--`.
    let name: String
    /// What the value is, as docs/configuration.md states it ("number", "integer", ...).
    let type: String
    /// The value in `root` as JSON text.
    let render: (Root) -> String
    /// Stores `value` into `root`; the error says what was expected.
    let apply: (inout Root, JSONValue) -> String?

    static func float(_ name: String, _ path: WritableKeyPath<Root, Float>) -> ConfigKey {
        ConfigKey(name: name, type: "number", render: { $0[keyPath: path].description }) { root, value in
            let number: Double
            switch value {
            case let .integer(v): number = Double(v)
            case let .unsigned(v): number = Double(v)
            case let .number(v): number = v
            default: return "a number, got \(value.kindName)"
            }
            guard Float(number).isFinite else { return "a finite 32-bit number, got \(number)" }
            root[keyPath: path] = Float(number)
            return nil
        }
    }

    static func int(_ name: String, _ path: WritableKeyPath<Root, Int>) -> ConfigKey {
        ConfigKey(name: name, type: "integer", render: { String($0[keyPath: path]) }) { root, value in
            guard let v = integer(value) else { return "an integer, got \(value.kindName)" }
            root[keyPath: path] = v
            return nil
        }
    }

    static func uint64(_ name: String, _ path: WritableKeyPath<Root, UInt64>) -> ConfigKey {
        ConfigKey(name: name, type: "integer ≥ 0", render: { String($0[keyPath: path]) }) { root, value in
            switch value {
            case let .integer(v) where v >= 0: root[keyPath: path] = UInt64(v)
            case let .unsigned(v): root[keyPath: path] = v
            default: return "a non-negative integer, got \(value.kindName)"
            }
            return nil
        }
    }

    static func bool(_ name: String, _ path: WritableKeyPath<Root, Bool>) -> ConfigKey {
        ConfigKey(name: name, type: "boolean", render: { String($0[keyPath: path]) }) { root, value in
            guard case let .bool(v) = value else { return "true or false, got \(value.kindName)" }
            root[keyPath: path] = v
            return nil
        }
    }

    static func string(_ name: String, _ path: WritableKeyPath<Root, String>) -> ConfigKey {
        ConfigKey(name: name, type: "string", render: { jsonString($0[keyPath: path]) }) { root, value in
            guard case let .string(v) = value else { return "a string, got \(value.kindName)" }
            root[keyPath: path] = v
            return nil
        }
    }

    static func optionalString(_ name: String, _ path: WritableKeyPath<Root, String?>) -> ConfigKey {
        ConfigKey(name: name, type: "string or null", render: { $0[keyPath: path].map(jsonString) ?? "null" }) {
            root, value in
            switch value {
            case .null: root[keyPath: path] = nil
            case let .string(v): root[keyPath: path] = v
            default: return "a string or null, got \(value.kindName)"
            }
            return nil
        }
    }

    static func optionalDouble(_ name: String, _ path: WritableKeyPath<Root, Double?>) -> ConfigKey {
        ConfigKey(name: name, type: "number or null", render: { $0[keyPath: path].map(\.description) ?? "null" }) {
            root, value in
            switch value {
            case .null: root[keyPath: path] = nil
            case let .integer(v): root[keyPath: path] = Double(v)
            case let .unsigned(v): root[keyPath: path] = Double(v)
            case let .number(v) where v.isFinite: root[keyPath: path] = v
            default: return "a finite number or null, got \(value.kindName)"
            }
            return nil
        }
    }

    static func uint32(_ name: String, _ path: WritableKeyPath<Root, UInt32>) -> ConfigKey {
        ConfigKey(name: name, type: "integer ≥ 0", render: { String($0[keyPath: path]) }) { root, value in
            guard let v = integer(value), let narrow = UInt32(exactly: v) else {
                return "an integer in 0...\(UInt32.max), got \(value.kindName)"
            }
            root[keyPath: path] = narrow
            return nil
        }
    }

    static func optionalInt(_ name: String, _ path: WritableKeyPath<Root, Int?>) -> ConfigKey {
        ConfigKey(name: name, type: "integer or null", render: { $0[keyPath: path].map(String.init) ?? "null" }) {
            root, value in
            if value == .null {
                root[keyPath: path] = nil
                return nil
            }
            guard let v = integer(value) else { return "an integer or null, got \(value.kindName)" }
            root[keyPath: path] = v
            return nil
        }
    }

    private static func integer(_ value: JSONValue) -> Int? {
        switch value {
        case let .integer(v): return Int(exactly: v)
        case let .unsigned(v): return Int(exactly: v)
        case let .number(v): return v.rounded() == v ? Int(exactly: v) : nil
        default: return nil
        }
    }
}

extension ConfigKey {
    /// The config-file key of a setting.
    init(_ setting: Setting<Root>) {
        self = switch setting.field {
        case let .float(path): .float(setting.name, path)
        case let .int(path): .int(setting.name, path)
        case let .uint64(path): .uint64(setting.name, path)
        case let .bool(path): .bool(setting.name, path)
        case let .string(path): .string(setting.name, path)
        case let .optionalInt(path): .optionalInt(setting.name, path)
        case let .optionalString(path): .optionalString(setting.name, path)
        }
    }
}

/// The keys of the config file, in the order `meow config` prints them.
///
/// docs/configuration.md lists every one (its `meow` and `run` tables are `keysMarkdown`); a test checks
/// that these tables cover every field of their structs and that the page names every key.
enum ConfigKeys {
    /// The hyperparameters, one key per entry of `MEowConfig.hyperparameters`.
    static let meow: [ConfigKey<MEowConfig>] = MEowConfig.hyperparameters.map(ConfigKey.init)

    /// The run settings, one key per entry of `RunSettings.settings`.
    static let run: [ConfigKey<RunSettings>] = RunSettings.settings.map(ConfigKey.init)

    /// The distributed learner's own settings (`LearnerConfiguration`); `env`, `meow` and `run`
    /// give the rest (run directory, checkpoints, metrics endpoint).
    static let learner: [ConfigKey<LearnerConfiguration>] = [
        .string("listen", \.listen), .int("max-actors", \.maxActors), .optionalInt("max-staleness", \.maxStaleness),
        .optionalDouble("max-abs-observation", \.maxAbsObservation), .optionalDouble("max-abs-reward", \.maxAbsReward),
        .optionalDouble("samples-per-insert", \.samplesPerInsert), .optionalInt("min-replay", \.minReplay),
        .optionalDouble("error-buffer", \.errorBuffer), .optionalInt("ingest-queue-capacity", \.ingestQueueCapacity),
        .int("batch-hint", \.batchHint), .int("max-batch", \.maxBatch), .int("upload-interval-ms", \.uploadIntervalMs),
        .int("weights-chunk-bytes", \.weightsChunkBytes), .int("weights-refresh-steps", \.weightsRefreshSteps),
        .int("weights-max-lag", \.weightsMaxLag), .int("weights-max-age-ms", \.weightsMaxAgeMs),
        .int("heartbeat-interval-ms", \.heartbeatIntervalMs), .optionalInt("peer-timeout-ms", \.peerTimeoutMs),
        .int("server-contexts", \.serverContexts), .int("weights-publish-interval-ms", \.weightsPublishIntervalMs),
        .optionalString("stats-file", \.statsFile), .int("stats-interval-ms", \.statsIntervalMs),
        .int("progress-interval-ms", \.progressIntervalMs), .optionalString("tls-cert", \.tlsCertificateFile),
        .optionalString("tls-key", \.tlsKeyFile),
    ]

    /// An actor process's settings (`ActorSettings`); `env` and `meow` (seed, policy shape) give the rest.
    static let actor: [ConfigKey<ActorSettings>] = [
        .string("connect", \.connect), .int("envs", \.envs), .uint32("actor-id", \.actorID),
        .optionalInt("batch-size", \.batchSize), .optionalInt("batch-interval-ms", \.batchIntervalMs),
        .optionalInt("weights-every", \.weightsEvery), .optionalInt("max-steps", \.maxSteps),
        .optionalInt("max-episode-steps", \.maxEpisodeSteps), .int("outbox-capacity", \.outboxCapacity),
        .int("request-timeout-ms", \.requestTimeoutMs), .optionalString("stats-file", \.statsFile),
        .int("progress-interval-ms", \.progressIntervalMs), .optionalString("tls-ca", \.tlsCA),
        .optionalString("tls-server-name", \.tlsServerName),
    ]

    /// The top-level keys.
    static let sections = ["env", "model", "spaces", "meow", "run", "learner", "actor"]
}

/// The contents of a config file: each part optional, unknown keys already rejected.
///
/// One file can serve a whole distributed run: the learner reads `env`, `meow`, `run`
/// and `learner`; an actor reads `env`, `meow` (seed and policy shape) and `actor`.
public struct ConfigFileContents: Sendable {
    /// The file's path, for messages.
    public internal(set) var path: String = ""
    public internal(set) var environment: String?
    /// A MuJoCo model file (MJCF) that replaces the built-in model of `environment`.
    public internal(set) var model: String?
    /// The spaces a learner's config.json records (written by the learner, not by hand).
    public internal(set) var spaces: RecordedSpaces?
    /// Keys given in the `meow` object, applied with `ConfigFile.apply`.
    var meow: [String: JSONValue] = [:]
    var run: [String: JSONValue] = [:]
    var learner: [String: JSONValue] = [:]
    var actor: [String: JSONValue] = [:]

    /// The keys the file gives in `section`, e.g. ["alpha", "seed"] for "meow".
    public func keys(in section: String) -> Set<String> {
        switch section {
        case "meow": Set(meow.keys)
        case "run": Set(run.keys)
        case "learner": Set(learner.keys)
        case "actor": Set(actor.keys)
        default: []
        }
    }

    /// `base` with the file's `meow` keys written over it (unvalidated).
    public func meowConfig(over base: MEowConfig) throws(ConfigurationError) -> MEowConfig {
        var config = base
        try ConfigFile.apply(meow, keys: ConfigKeys.meow, section: "meow", path: path, to: &config)
        return config
    }

    /// `base` with the file's `run` keys written over it (unvalidated).
    public func runSettings(over base: RunSettings) throws(ConfigurationError) -> RunSettings {
        var settings = base
        try ConfigFile.apply(run, keys: ConfigKeys.run, section: "run", path: path, to: &settings)
        return settings
    }

    /// `base` with the file's `learner` keys written over it (unvalidated).
    public func learnerConfiguration(over base: LearnerConfiguration) throws(ConfigurationError) -> LearnerConfiguration {
        var configuration = base
        try ConfigFile.apply(learner, keys: ConfigKeys.learner, section: "learner", path: path, to: &configuration)
        return configuration
    }

    /// `base` with the file's `actor` keys written over it (unvalidated).
    public func actorSettings(over base: ActorSettings) throws(ConfigurationError) -> ActorSettings {
        var settings = base
        try ConfigFile.apply(actor, keys: ConfigKeys.actor, section: "actor", path: path, to: &settings)
        return settings
    }
}

/// Reads and writes the JSON config file (docs/configuration.md).
public enum ConfigFile {
    /// Parses `data` (the file at `path`, for messages) and checks every key's name.
    static func parse(_ data: Data, path: String) throws(ConfigurationError) -> ConfigFileContents {
        let root: JSONValue
        do {
            root = try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw .unreadableFile(path: path, reason: "it is not valid JSON (\(Self.reason(error)))")
        }
        guard case let .object(top) = root else {
            throw .unreadableFile(path: path, reason: "the top level must be an object with env, meow, run, learner and actor")
        }
        var contents = ConfigFileContents()
        contents.path = path
        for (key, value) in top.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "env":
                guard case let .string(name) = value else {
                    throw .invalidKey(key: "env", path: path, expected: "an environment name, got \(value.kindName)")
                }
                contents.environment = name
            case "model":
                switch value {
                case let .string(file): contents.model = file
                case .null: contents.model = nil
                default:
                    throw .invalidKey(key: "model", path: path, expected: "a MuJoCo model file path or null, got \(value.kindName)")
                }
            case "spaces":
                struct Top: Decodable { let spaces: RecordedSpaces }
                guard let top = try? JSONDecoder().decode(Top.self, from: data),
                      AgreedSpaces(top.spaces) != nil else {
                    throw .invalidKey(key: "spaces", path: path,
                                      expected: "observation and action, each with shape, low and high that agree")
                }
                contents.spaces = top.spaces
            case "meow":
                contents.meow = try section(value, "meow", names: ConfigKeys.meow.map(\.name), path: path)
            case "run":
                contents.run = try section(value, "run", names: ConfigKeys.run.map(\.name), path: path)
            case "learner":
                contents.learner = try section(value, "learner", names: ConfigKeys.learner.map(\.name), path: path)
            case "actor":
                contents.actor = try section(value, "actor", names: ConfigKeys.actor.map(\.name), path: path)
            default:
                throw .unknownKey(key: key, path: path, suggestion: suggestion(for: key, among: ConfigKeys.sections))
            }
        }
        return contents
    }

    /// Reads and parses the file at `path`.
    public static func load(_ path: String) throws(ConfigurationError) -> ConfigFileContents {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableFile(path: path, reason: "it cannot be read (\(error.localizedDescription))")
        }
        return try parse(data, path: path)
    }

    private static func section(
        _ value: JSONValue, _ name: String, names: [String], path: String
    ) throws(ConfigurationError) -> [String: JSONValue] {
        guard case let .object(entries) = value else {
            throw .invalidKey(key: name, path: path, expected: "an object of keys, got \(value.kindName)")
        }
        for key in entries.keys.sorted() where !names.contains(key) {
            throw .unknownKey(key: "\(name).\(key)", path: path, suggestion: suggestion(for: key, among: names))
        }
        return entries
    }

    /// Writes `values` over `root` in table order; the error names "section.key".
    static func apply<Root>(
        _ values: [String: JSONValue], keys: [ConfigKey<Root>], section: String, path: String, to root: inout Root
    ) throws(ConfigurationError) {
        for key in keys {
            guard let value = values[key.name] else { continue }
            if let expected = key.apply(&root, value) {
                throw .invalidKey(key: "\(section).\(key.name)", path: path, expected: expected)
            }
        }
    }

    /// The effective configuration as a config file: `meow config` prints it, config.json stores it.
    ///
    /// `learner` and `actor` add those sections (the distributed learner stores its own); `model`, a
    /// MuJoCo model file that replaces the environment's built-in one, is written only when given.
    public static func render(
        environment: String, model: String? = nil, config: MEowConfig, settings: RunSettings,
        learner: LearnerConfiguration? = nil, actor: ActorSettings? = nil, spaces: RecordedSpaces? = nil
    ) -> String {
        func object<Root>(_ name: String, _ keys: [ConfigKey<Root>], _ root: Root) -> String {
            "  \(jsonString(name)): {\n"
                + keys.map { "    \(jsonString($0.name)): \($0.render(root))" }.joined(separator: ",\n") + "\n  }"
        }
        var sections = [object("meow", ConfigKeys.meow, config), object("run", ConfigKeys.run, settings)]
        if let learner { sections.append(object("learner", ConfigKeys.learner, learner)) }
        if let actor { sections.append(object("actor", ConfigKeys.actor, actor)) }
        let modelLine = model.map { "  \"model\": \(jsonString($0)),\n" } ?? ""
            + (spaces.map { "  \"spaces\": \($0.json),\n" } ?? "")
        return "{\n  \"env\": \(jsonString(environment)),\n" + modelLine + sections.joined(separator: ",\n") + "\n}\n"
    }

    /// The sections whose key table `keysMarkdown(section:)` generates.
    public static let generatedSections = ["meow", "run"]

    /// The key table of `section` in docs/configuration.md, generated from `MEowConfig.hyperparameters`
    /// or `RunSettings.settings` (`meow config --markdown SECTION` prints it; a test checks that the
    /// page holds it unchanged); nil for a section whose table is written by hand.
    public static func keysMarkdown(section: String) -> String? {
        switch section {
        case "meow":
            keysMarkdown(MEowConfig.hyperparameters, ConfigKeys.meow) {
                $0.defaultIs == .perPreset ? $0.presetValuesPhrase : "—"
            }
        case "run": keysMarkdown(RunSettings.settings, ConfigKeys.run)
        default: nil
        }
    }

    /// One row per setting: key, type, `Root()`'s value, `presets` when given, and `help` plus `note`.
    private static func keysMarkdown<Root: SettingsTable>(
        _ settings: [Setting<Root>], _ keys: [ConfigKey<Root>], presets: ((Setting<Root>) -> String)? = nil
    ) -> String {
        let defaults = Root()
        let rows = zip(settings, keys).map { setting, key in
            let flags = setting.aliases.map { "Also `--\($0)`." }
            let meaning = ([setting.help, setting.note] + flags).filter { !$0.isEmpty }.joined(separator: " ")
            let cells = ["`\(key.name)`", key.type, key.render(defaults)] + (presets.map { [$0(setting)] } ?? [])
                + [meaning]
            return "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |"
        }
        let header = ["key", "type", "default"] + (presets == nil ? [] : ["per preset"]) + ["meaning"]
        return (["| " + header.joined(separator: " | ") + " |", "|" + String(repeating: " --- |", count: header.count)]
            + rows).joined(separator: "\n") + "\n"
    }

    /// The nearest known key within edit distance 2 (a typo), or nil.
    static func suggestion(for key: String, among names: [String]) -> String? {
        let scored = names.map { ($0, editDistance(key, $0)) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, key.count / 4) else { return nil }
        return best
    }

    /// Levenshtein distance over characters.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }

    private static func reason(_ error: any Error) -> String {
        if case let DecodingError.dataCorrupted(context) = error {
            return context.underlyingError.map { "\($0.localizedDescription)" } ?? context.debugDescription
        }
        return error.localizedDescription
    }
}

/// `s` as a JSON string literal.
func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
