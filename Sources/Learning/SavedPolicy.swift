import Foundation
import MEow
import NN

/// A saved policy and what it records about itself, for `meow evaluate`.
///
/// `--policy` names a policy.safetensors (its metadata names the environment, the model file
/// and the spaces; the run's config.json beside it, when there is one, the hyperparameters),
/// a checkpoint directory (its manifest says all of that; the weights are online.safetensors),
/// or a run directory (its policy.safetensors).
public struct SavedPolicy: Sendable, Equatable {
    /// The safetensors file holding the weights.
    public var weightsFile: String
    /// The environment's name as saved; nil for files written before policies recorded it.
    public var environment: String?
    /// The MuJoCo model file the policy was trained in, when not the task's built-in one.
    public var model: String?
    /// The dimensions the weights were built for, when recorded.
    public var observationDimension: Int?
    public var actionDimension: Int?
    /// The run's hyperparameters, from the checkpoint manifest or the run's config.json.
    public var config: MEowConfig?
    /// The safetensors metadata (empty for a file that does not exist yet: loading reports it).
    public var metadata: [String: String] = [:]

    /// Reads what `path` says about the policy in it.
    public static func open(_ path: String) throws -> SavedPolicy {
        var isDirectory: ObjCBool = false
        let manager = FileManager.default
        if manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            let run = URL(fileURLWithPath: path).appendingPathComponent(RunFiles.policy).path
            if !manager.fileExists(atPath: path + "/" + CheckpointStore.manifestName), manager.fileExists(atPath: run) {
                return try open(run)
            }
            let checkpoint = try CheckpointStore.load(URL(fileURLWithPath: path))
            let manifest = checkpoint.manifest
            var saved = SavedPolicy(weightsFile: checkpoint.directory.appendingPathComponent(AgentFiles.online).path)
            saved.environment = manifest.environment
            saved.model = manifest.model
            saved.observationDimension = manifest.spaces.observationDimension
            saved.actionDimension = manifest.spaces.actionDimension
            saved.config = manifest.config
            return saved
        }
        var saved = SavedPolicy(weightsFile: path)
        if manager.fileExists(atPath: path) {
            let metadata: PolicyFileMetadata
            do {
                metadata = try PolicyFileMetadata.read(path).metadata
            } catch let error as PolicyFormatError {
                throw error
            } catch {
                throw LearningError.unusablePolicy(path: path, reason: fileErrorReason(error))
            }
            saved.metadata = metadata.entries
            saved.observationDimension = metadata.observationDimension
            saved.actionDimension = metadata.actionDimension
        }
        saved.environment = saved.metadata[PolicyMetadata.environment]
        saved.model = saved.metadata[PolicyMetadata.model]
        try saved.readRunConfig()
        return saved
    }

    init(weightsFile: String) {
        self.weightsFile = weightsFile
    }

    /// The run's config.json beside the weights: its hyperparameters, and its env and model
    /// for a policy file that does not name them.
    private mutating func readRunConfig() throws {
        let configURL = URL(fileURLWithPath: weightsFile).deletingLastPathComponent().appendingPathComponent(RunFiles.config)
        guard let data = FileManager.default.contents(atPath: configURL.path) else { return }
        var saved = MEowConfig()
        do {
            if let contents = try? ConfigFile.parse(data, path: configURL.path) {
                try ConfigFile.apply(contents.meow, keys: ConfigKeys.meow, section: "meow", path: configURL.path, to: &saved)
                if environment == nil {
                    environment = contents.environment
                    model = model ?? contents.model
                }
            } else {
                // A run written before config files existed: config.json is MEowConfig's own encoding.
                saved = try JSONDecoder().decode(MEowConfig.self, from: data)
            }
        } catch let error as ConfigurationError {
            throw error
        } catch {
            throw LearningError.invalidConfigFile(path: configURL.path, reason: fileErrorReason(error))
        }
        config = saved
    }

    /// The policy's network settings: the run's config when known, else `preset`, with the
    /// shape the weights' metadata records written over it (it is what the weights fit).
    public func networkConfig(preset: MEowConfig) -> MEowConfig {
        var c = config ?? preset
        func read<V: LosslessStringConvertible>(_ key: String, _ field: WritableKeyPath<MEowConfig, V>) {
            if let text = metadata[key], let value = V(text) { c[keyPath: field] = value }
        }
        read("log_sigma_min", \.logSigmaMin)
        read("log_sigma_max", \.logSigmaMax)
        read("coupling_layers", \.couplingLayers)
        read("flow_hidden", \.flowHidden)
        read("shift_hidden", \.shiftHidden)
        if let heads = metadata["reward_shift_heads"].flatMap({ Int($0) }) {
            c.rewardShift = heads > 0
            if heads > 0 { c.clippedDoubleQ = heads > 1 }
        }
        return c
    }
}
