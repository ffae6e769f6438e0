import MEow
import Tensor

/// What the simulator server needs from a policy: batched actions, V(s), and newer weights.
///
/// The server's thread owns its inference policy outright, so it need not be Sendable. The
/// learner's agents (`DistributedAgent`) and a gateway's policy are both `MEowAgent`s.
public protocol InferencePolicy: AnyObject {
    /// Actions in [-1, 1] for `count` rows of observations, sampled or (`deterministic`) the mean.
    func act(observations: [Float], count: Int, deterministic: Bool, rng: inout Xoshiro256) -> [Float]
    /// V(s) for `count` rows of observations.
    func values(observations: [Float], count: Int) -> [Float]
    /// Replaces the policy's weights (names and shapes must match).
    func loadPolicyTensors(_ tensors: [NamedTensor]) throws
}

extension MEowAgent: InferencePolicy {}
