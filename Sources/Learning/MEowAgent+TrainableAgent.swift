import MEow
import Replay
import Tensor

extension MEowAgent: TrainableAgent {
    public func recordEnvironment(_ name: String, model: String?) {
        provenance = PolicyMetadata.provenance(environment: name, model: model)
    }

    public func update(batch: TransitionBatch) -> UpdateMetrics {
        update(
            observations: batch.observations, actions: batch.actions, rewards: batch.rewards,
            terminations: batch.terminations, nextObservations: batch.nextObservations, count: batch.count)
    }

    /// online.safetensors, target.safetensors, adam.safetensors and the dropout generator.
    public func checkpoint() -> AgentCheckpoint {
        let state = trainingState()
        let files = encode(state)
        return AgentCheckpoint(
            files: [
                AgentFiles.online: files.online, AgentFiles.target: files.target, AgentFiles.adam: files.adam,
            ],
            record: AgentRecord(
                updateCount: state.updateCount, skippedUpdates: state.skippedUpdates,
                optimizerStep: state.optimizerStep, randomStreams: [AgentFiles.dropoutStream: state.dropoutRNG.state]))
    }

    public func restore(from checkpoint: AgentCheckpoint) throws {
        func file(_ name: String) throws(CheckpointError) -> [UInt8] {
            guard let bytes = checkpoint.files[name] else { throw .missingFile(path: name) }
            return bytes
        }
        let record = checkpoint.record
        guard let words = record.randomStreams[AgentFiles.dropoutStream], let dropout = Xoshiro256(state: words) else {
            throw CheckpointError.invalidManifest(reason: "agent random stream 'dropout' is missing or invalid")
        }
        let files = TrainingStateFiles(
            online: try file(AgentFiles.online), target: try file(AgentFiles.target), adam: try file(AgentFiles.adam))
        do {
            let state = try decode(
                files, dropoutRNG: dropout, updateCount: record.updateCount, skippedUpdates: record.skippedUpdates)
            guard state.optimizerStep == record.optimizerStep else {
                throw CheckpointError.invalidData(
                    path: AgentFiles.adam,
                    reason: "step \(state.optimizerStep) in its metadata, \(record.optimizerStep) in the manifest")
            }
            try restore(state)
        } catch let error as TrainingStateError {
            let name = ["online": AgentFiles.online, "target": AgentFiles.target, "adam": AgentFiles.adam][error.part]
            throw CheckpointError.invalidData(path: name ?? error.part, reason: error.reason)
        }
    }
}

/// The names of a MEow agent's checkpoint files and generator.
public enum AgentFiles {
    public static let online = "online.safetensors"
    public static let target = "target.safetensors"
    public static let adam = "adam.safetensors"
    public static let dropoutStream = "dropout"
}

/// Builds the agent every mode runs: `meow train`, `meow evaluate`, `meow-learner` and `meow-actor`.
///
/// It is a `DistributedAgent`, so the learner service and actors can move its weights; the
/// single-process trainer takes it as the `TrainableAgent` it needs (`AgentFactory`).
public enum DefaultAgent {
    /// A fresh `MEowAgent` for these dimensions, initialised from `config.seed`.
    public static func make(
        config: MEowConfig, observationDimension: Int, actionDimension: Int
    ) throws -> any DistributedAgent {
        try MEowAgent(config: config, observationDimension: observationDimension, actionDimension: actionDimension)
    }
}

/// The policy-file metadata keys that say where a policy acts, beside MEow's own.
public enum PolicyMetadata {
    /// The environment's canonical name ("hopper").
    public static let environment = "environment"
    /// The MuJoCo model file (absolute path) the policy was trained in, when not the built-in one.
    public static let model = "model"

    static func provenance(environment name: String, model: String?) -> [String: String] {
        var values = [environment: name]
        if let model { values[self.model] = model }
        return values
    }
}
