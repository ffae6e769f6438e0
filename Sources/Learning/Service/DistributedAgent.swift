import MEow
import Replay
import Tensor

/// What the learner service needs from the agent it trains.
///
/// The service only ever talks to the agent from its training thread, so the agent
/// need not be Sendable. `policyTensors()` is the one call beyond single-process
/// training: it copies the online weights for the WEIGHTS cache, and is cheap next to
/// an update (a memcpy of well under 2 MiB).
public protocol DistributedAgent: AnyObject {
    /// Successful updates so far: the policy version actors see.
    var updateCount: Int { get }
    /// Updates skipped because the loss or gradient norm was not finite.
    var skippedUpdates: Int { get }

    /// Actions in [-1, 1] for `count` observations; used for deterministic evaluation.
    func act(observations: [Float], count: Int, deterministic: Bool, rng: inout Xoshiro256) -> [Float]

    /// One update on a replay batch; returns the loss (`losses/qf_loss`).
    func update(batch: Replay.TransitionBatch) -> Float

    /// A copy of the online policy's weights.
    func policyTensors() -> [NamedTensor]

    /// Saves the online policy as safetensors.
    func savePolicy(to path: String) throws
}
