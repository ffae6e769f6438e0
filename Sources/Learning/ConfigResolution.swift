import Environments
import Foundation
import MEow

/// Command-line overrides of `MEowConfig`: nil leaves the preset's value.
///
/// One optional per config field, same names; executables fill it from their
/// `@OptionGroup` and `ConfigResolver` applies it, so validation lives here where tests
/// can reach it.
public struct ConfigOverrides: Sendable, Equatable {
    public var alpha: Float?
    public var gamma: Float?
    public var tau: Float?
    public var logSigmaMin: Float?
    public var logSigmaMax: Float?
    public var flowHidden: Int?
    public var shiftHidden: Int?
    public var couplingLayers: Int?
    public var couplingDropout: Float?
    public var rewardShift: Bool?
    public var clippedDoubleQ: Bool?
    public var learningRate: Float?
    public var gradClip: Float?
    public var batchSize: Int?
    public var bufferSize: Int?
    public var learningStarts: Int?
    public var updatesPerStep: Int?
    public var totalSteps: Int?
    public var evalEvery: Int?
    public var evalEpisodes: Int?
    public var deterministicEval: Bool?
    public var seed: UInt64?

    public init() {}

    /// `base` with every non-nil override written over it.
    public func applied(to base: MEowConfig) -> MEowConfig {
        var c = base
        func set<V>(_ field: WritableKeyPath<MEowConfig, V>, _ value: V?) {
            if let value { c[keyPath: field] = value }
        }
        set(\.alpha, alpha)
        set(\.gamma, gamma)
        set(\.tau, tau)
        set(\.logSigmaMin, logSigmaMin)
        set(\.logSigmaMax, logSigmaMax)
        set(\.flowHidden, flowHidden)
        set(\.shiftHidden, shiftHidden)
        set(\.couplingLayers, couplingLayers)
        set(\.couplingDropout, couplingDropout)
        set(\.rewardShift, rewardShift)
        set(\.clippedDoubleQ, clippedDoubleQ)
        set(\.learningRate, learningRate)
        set(\.gradClip, gradClip)
        set(\.batchSize, batchSize)
        set(\.bufferSize, bufferSize)
        set(\.learningStarts, learningStarts)
        set(\.updatesPerStep, updatesPerStep)
        set(\.totalSteps, totalSteps)
        set(\.evalEvery, evalEvery)
        set(\.evalEpisodes, evalEpisodes)
        set(\.deterministicEval, deterministicEval)
        set(\.seed, seed)
        return c
    }
}

/// A configuration mistake, reported in one sentence that says what to change.
public enum ConfigurationError: Error, Equatable, CustomStringConvertible {
    /// No preset and no simulation has this name.
    case unknownEnvironment(name: String, known: [String])
    /// A preset exists (a MuJoCo task) but no built-in simulation: it needs the distributed setup.
    case noBuiltInSimulation(name: String, known: [String])
    /// A field's value cannot work; `flag` is the command-line flag that sets it.
    case invalidValue(flag: String, expected: String)

    public var description: String {
        switch self {
        case let .unknownEnvironment(name, known):
            "Unknown environment '\(name)': pass --env with one of \(known.joined(separator: ", "))."
        case let .noBuiltInSimulation(name, known):
            "Environment '\(name)' has a preset but no built-in simulation (it runs on gymnasium actors): "
                + "pass --env with one of \(known.joined(separator: ", "))."
        case let .invalidValue(flag, expected):
            "Invalid \(flag): expected \(expected); change \(flag)."
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
        let name = try canonicalName(environmentName)
        guard let preset = MEowConfig.preset(name) else {
            throw .unknownEnvironment(name: environmentName, known: trainableEnvironments)
        }
        return try validated(name: name, config: overrides.applied(to: preset))
    }

    /// The configuration a saved policy was trained with, for `meow evaluate`.
    ///
    /// The network shape must match the saved weights, so the run's config.json (next to
    /// the policy) wins over the preset when it exists; overrides still apply on top.
    public static func resolve(
        policyPath: String, environmentName: String, overrides: ConfigOverrides
    ) throws -> ResolvedConfiguration {
        let configURL = URL(fileURLWithPath: policyPath).deletingLastPathComponent()
            .appendingPathComponent(RunFiles.config)
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            return try resolve(environmentName: environmentName, overrides: overrides)
        }
        let name = try canonicalName(environmentName)
        let saved: MEowConfig
        do {
            saved = try JSONDecoder().decode(MEowConfig.self, from: Data(contentsOf: configURL))
        } catch {
            throw LearningError.invalidConfigFile(path: configURL.path, reason: "\(error)")
        }
        return try validated(name: name, config: overrides.applied(to: saved))
    }

    /// The command-line flag for a `MEowConfigError` field (`total-steps` is `--steps`).
    public static func flag(forField field: String) -> String {
        field == "total-steps" ? "--steps" : "--\(field)"
    }

    private static func canonicalName(_ name: String) throws(ConfigurationError) -> String {
        do {
            return try EnvironmentRegistry.entry(named: name).name
        } catch {
            if MEowConfig.preset(name) != nil { throw .noBuiltInSimulation(name: name, known: trainableEnvironments) }
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
