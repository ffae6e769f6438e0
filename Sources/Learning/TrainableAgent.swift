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

    /// One update (ALGORITHM.md section 7) on a replay batch.
    func update(batch: TransitionBatch) -> UpdateStatistics

    /// Saves the online policy as safetensors.
    func savePolicy(to path: String) throws
    /// Replaces the online policy with one saved by `savePolicy`.
    func loadPolicy(from path: String) throws
}

/// What one update did, for the metrics file and the progress line.
///
/// Mirrors the agent contract's `UpdateMetrics` field for field; it is declared here so
/// that the trainer does not depend on which module defines the agent.
public struct UpdateStatistics: Sendable, Equatable {
    /// ½ Σ_j MSE, logged as `losses/qf_loss`.
    public var loss: Float
    /// Global L2 gradient norm before clipping.
    public var gradientNorm: Float
    /// True when the loss or gradient norm was non-finite and no step was taken.
    public var skipped: Bool
    /// Mean of Q₁ over the batch.
    public var meanQ: Float
    /// Mean of min_j V̄_j(s') over the batch.
    public var meanTargetV: Float
    /// Mean, minimum and maximum of log σ(s) over batch and action dimensions.
    public var meanLogSigma: Float
    public var minLogSigma: Float
    public var maxLogSigma: Float

    public init(
        loss: Float, gradientNorm: Float, skipped: Bool, meanQ: Float, meanTargetV: Float,
        meanLogSigma: Float, minLogSigma: Float, maxLogSigma: Float
    ) {
        self.loss = loss
        self.gradientNorm = gradientNorm
        self.skipped = skipped
        self.meanQ = meanQ
        self.meanTargetV = meanTargetV
        self.meanLogSigma = meanLogSigma
        self.minLogSigma = minLogSigma
        self.maxLogSigma = maxLogSigma
    }
}
