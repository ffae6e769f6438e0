import MEow
import Simulators
import Telemetry

/// The learner's and the actors' configuration from one config file plus flags.
///
/// The same precedence as `meow train` (docs/configuration.md): the environment's preset,
/// then the file's sections, then the flags. A resumed learner starts from its
/// checkpoint's configuration instead of the preset; hyperparameters it was trained with
/// may be repeated (a deploy launcher passes the same flags at every start) but not
/// changed, except `total-steps`, which may extend the run.
public enum DistributedConfigResolver {
    /// Hyperparameters a resume may change.
    static let changeableOnResume: Set<String> = ["total-steps"]

    /// The learner's effective configuration.
    ///
    /// - Parameters:
    ///   - learnerFlags: the kebab-case names of the learner flags given (for blaming a bad value
    ///     on the flag or on the file's key).
    ///   - applyLearnerFlags: writes those flags over the file's `learner` section.
    ///   - token: the auth token, already read from the flags or MEOW_TOKEN.
    ///   - resume: the manifest of the checkpoint this run continues.
    ///   - modelPath: `--model`, a MuJoCo model file replacing the task's built-in model.
    public static func learner(
        environment: String?, configFile: String?, meow: ConfigOverrides, run: RunSettingsOverrides,
        learnerFlags: Set<String>, applyLearnerFlags: (inout LearnerConfiguration) -> Void,
        token: [UInt8]? = nil, resume: CheckpointManifest? = nil, modelPath: String? = nil
    ) throws(ConfigurationError) -> LearnerConfiguration {
        let file = try configFile.map { path throws(ConfigurationError) in try ConfigFile.load(path) }
        let requested = environment ?? file?.environment ?? resume?.environment ?? "pendulum"
        let spec: EnvironmentSpec
        do {
            spec = try EnvironmentSpec.resolve(requested)
        } catch {
            throw .unknownEnvironment(name: requested, known: EnvironmentSpec.names)
        }
        if let resume, resume.environment != spec.name {
            throw .conflictsWithCheckpoint(key: "env", given: spec.name, stored: resume.environment)
        }
        // `external` has no preset of its own: the defaults, then the file and the flags.
        guard let preset = resume?.config ?? MEowConfig.preset(spec.name) ?? (spec.acceptsAnyShape ? MEowConfig() : nil)
        else {
            throw .unknownEnvironment(name: requested, known: EnvironmentSpec.names)
        }

        var config = try file?.meowConfig(over: preset) ?? preset
        config = meow.applied(to: config)
        let meowFlags = meow.given
        if let resume {
            let given = meowFlags.union(file?.keys(in: "meow") ?? [])
            for key in ConfigKeys.meow where given.contains(key.name) && !changeableOnResume.contains(key.name) {
                let (now, stored) = (key.render(config), key.render(resume.config))
                if now != stored { throw .conflictsWithCheckpoint(key: key.name, given: now, stored: stored) }
            }
        }
        var settings = try file?.runSettings(over: resume?.run ?? RunSettings()) ?? resume?.run ?? RunSettings()
        settings = run.applied(to: settings)

        var c = try file?.learnerConfiguration(over: LearnerConfiguration()) ?? LearnerConfiguration()
        applyLearnerFlags(&c)
        c.environment = spec.name
        c.modelPath = try ConfigResolver.checkedModel(
            modelPath ?? file?.model ?? resume?.model, environment: spec.name,
            source: modelPath != nil ? "--model" : "'model' in \(configFile ?? "the checkpoint")")
        if let resume, c.modelPath != resume.model {
            throw .conflictsWithCheckpoint(key: "model", given: c.modelPath ?? "the built-in model",
                                           stored: resume.model ?? "the built-in model")
        }
        c.agent = config
        // Spaces recorded by an earlier session of the run (its checkpoint, or config.json alone).
        if let recorded = resume?.spaces.spaces ?? file?.spaces {
            guard let spaces = AgreedSpaces(recorded) else {
                throw .invalid("the spaces recorded in \(configFile ?? "the checkpoint") are inconsistent")
            }
            c.spaces = spaces
        }
        c.token = token
        c.runDirectory = settings.runDir ?? "runs/\(spec.name)-learner"
        c.metricsListen = settings.metricsListen.map { $0.allSatisfy(\.isNumber) ? "127.0.0.1:\($0)" : $0 }
        if let listen = c.metricsListen {
            try checkMetricsExposure(listen, token: token)
        }
        settings.runDir = nil
        settings.metricsListen = nil
        c.run = settings

        do {
            try config.validate()
        } catch {
            throw blame(field: error.field, expected: error.expected, section: "meow", file: file, flags: meowFlags)
        }
        do {
            try c.run.validate()
        } catch {
            throw blame(field: error.field, expected: error.expected, section: "run", file: file,
                        flags: run.given)
        }
        do {
            try c.validate()
        } catch {
            if case let .invalidSetting(field, expected) = error {
                throw blame(field: field, expected: expected, section: "learner", file: file, flags: learnerFlags)
            }
            throw .invalid(error.description)
        }
        return c
    }

    /// Refuses a metrics address beyond loopback without a token: `/metrics` would be open to the network.
    static func checkMetricsExposure(_ listen: String, token: [UInt8]?) throws(ConfigurationError) {
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: listen)
        } catch {
            throw .invalidValue(flag: "--metrics-listen",
                                expected: "host:port with a numeric host, e.g. 127.0.0.1:9100 (\(error))")
        }
        guard address.isLoopback || token != nil else {
            throw .invalid("--metrics-listen \(address) is reachable beyond this machine, so /metrics needs a token: "
                + "give --token-file, --token or MEOW_TOKEN (scrapers then send 'Authorization: Bearer <token>'), "
                + "or listen on 127.0.0.1")
        }
    }

    /// An actor's environment, seed and settings: defaults, then the file's `env`, `meow.seed`
    /// and `actor` section, then the flags. The caller validates the result
    /// (`ActorConfiguration.validate`) and blames a bad value with `blame`.
    public static func actor(
        environment: String?, configFile: String?, seed: UInt64?, applyActorFlags: (inout ActorSettings) -> Void
    ) throws(ConfigurationError) -> (environment: String, seed: UInt64, settings: ActorSettings, file: ConfigFileContents?) {
        let file = try configFile.map { path throws(ConfigurationError) in try ConfigFile.load(path) }
        var settings = try file?.actorSettings(over: ActorSettings()) ?? ActorSettings()
        applyActorFlags(&settings)
        let fileSeed = try file.flatMap { file throws(ConfigurationError) -> UInt64? in
            file.keys(in: "meow").contains("seed") ? try file.meowConfig(over: MEowConfig()).seed : nil
        }
        return (environment ?? file?.environment ?? "pendulum", seed ?? fileSeed ?? MEowConfig().seed, settings, file)
    }

    /// The error for a bad `field` of `section`: against the file's key when the file set it
    /// and no flag did, else against the flag.
    public static func blame(
        field: String, expected: String, section: String, file: ConfigFileContents?, flags: Set<String>
    ) -> ConfigurationError {
        if !flags.contains(field), let file, file.keys(in: section).contains(field) {
            return .invalidKey(key: "\(section).\(field)", path: file.path, expected: expected)
        }
        return .invalidValue(flag: ConfigResolver.flag(forField: field), expected: expected)
    }
}
