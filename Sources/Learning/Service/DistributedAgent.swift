import MEow
import Replay
import Simulators
import Tensor

/// What the learner service and actors need from an agent: the trainer's contract plus
/// moving the online policy's weights in and out as named tensors (loading them is
/// `InferencePolicy`'s, which the simulator server needs alone).
///
/// The service talks to its agent only from the training thread, so the agent need
/// not be Sendable. `policyTensors()` copies the weights for the WEIGHTS cache, a memcpy
/// of well under 2 MiB, cheap next to an update; actors load them with
/// `loadPolicyTensors`.
public protocol DistributedAgent: TrainableAgent, InferencePolicy {
    /// A copy of the online policy's weights.
    func policyTensors() -> [NamedTensor]
    /// Saves the online policy with extra metadata entries (the spaces of the run).
    func savePolicy(to path: String, extraMetadata: [String: String]) throws
}

extension DistributedAgent {
    /// Agents without a metadata table save the policy alone.
    public func savePolicy(to path: String, extraMetadata: [String: String]) throws {
        try savePolicy(to: path)
    }
}

extension MEowAgent: DistributedAgent {}
