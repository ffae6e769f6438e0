import MEow
import Replay
import Tensor

/// What the trainer needs from an agent: act, learn from a replay batch, save the policy.
///
/// `MEowAgent` conforms (MEowAgent+TrainableAgent.swift); the protocol exists so that the
/// loop can be written and tested on its own, with a small deterministic double standing
/// in for the flow. The method names and signatures of `act`, `values`, `savePolicy` and
/// `loadPolicy` are the agent contract's, so `MEowAgent` satisfies them as written.
public protocol TrainableAgent: AnyObject {
    /// Successful (not skipped) updates so far.
    var updateCount: Int { get }
    /// Updates skipped because the loss or gradient norm was not finite.
    var skippedUpdates: Int { get }

    /// Actions in [-1, 1] for `count` observations (row-major [count × ds]), eval mode.
    ///
    /// Stochastic actions draw their noise from `rng`; deterministic ones take z₀ = 0.
    func act(observations: [Float], count: Int, deterministic: Bool, rng: inout Xoshiro256) -> [Float]

    /// Soft value V(s) for `count` observations, eval mode.
    func values(observations: [Float], count: Int) -> [Float]

    /// One update (docs/algorithm.md §4.8) on a replay batch.
    func update(batch: TransitionBatch) -> UpdateMetrics

    /// Records the environment (and MuJoCo model file) the policy acts in, for the policy file's metadata.
    func recordEnvironment(_ name: String, model: String?)
    /// Saves the online policy as safetensors.
    func savePolicy(to path: String) throws
    /// Replaces the online policy with one saved by `savePolicy`.
    func loadPolicy(from path: String) throws

    /// The full training state (weights, optimizer, generators, counters) as checkpoint files and a record.
    func checkpoint() -> AgentCheckpoint

    /// Replaces the full training state with one from `checkpoint()`; throws `CheckpointError`
    /// naming the file that does not fit, and changes nothing then.
    func restore(from checkpoint: AgentCheckpoint) throws
}

extension TrainableAgent {
    /// Nothing to record: an agent without policy metadata.
    public func recordEnvironment(_ name: String, model: String?) {}

    /// Counters only: an agent without its own `checkpoint()` has no state a resume could restore.
    public func checkpoint() -> AgentCheckpoint {
        AgentCheckpoint(
            files: [:],
            record: AgentRecord(
                updateCount: updateCount, skippedUpdates: skippedUpdates, optimizerStep: 0, randomStreams: [:]))
    }

    /// Refuses: resuming such an agent would silently start from fresh weights.
    public func restore(from checkpoint: AgentCheckpoint) throws {
        throw CheckpointError.incompatible(reason: "\(type(of: self)) cannot restore a training state")
    }
}
