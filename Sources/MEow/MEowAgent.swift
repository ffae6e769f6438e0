import NN

/// What one update did (docs/algorithm.md §4.8), for logs and metrics.
public struct UpdateMetrics: Sendable, Equatable {
    /// ½ Σ_j MSE (`losses/qf_loss`); the single MSE with one head.
    public var loss: Float
    /// Global L2 norm of the gradients before clipping.
    public var gradientNorm: Float
    /// The loss or gradient norm was not finite, so no Adam or Polyak step was taken (docs/algorithm.md §4.7, §7.8).
    public var skipped: Bool
    /// Mean of Q_1(s, a) over the batch.
    public var meanQ: Float
    /// Mean of min_j V̄_j(s') over the batch (soft value scale).
    public var meanTargetV: Float
    /// Mean, minimum and maximum of the online log σ(s) over batch and action dimensions.
    public var meanLogSigma: Float
    public var minLogSigma: Float
    public var maxLogSigma: Float

    public init(loss: Float, gradientNorm: Float, skipped: Bool, meanQ: Float, meanTargetV: Float,
                meanLogSigma: Float, minLogSigma: Float, maxLogSigma: Float) {
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

/// A MEow learner and policy: the online and target flows, Adam, and the update of docs/algorithm.md §4.8.
///
/// One `MEowFlow<Float>` definition runs on two `ParameterStore`s: the online
/// parameters θ, trained by Adam, and the Polyak-averaged target θ̄, which starts as a
/// copy (§4.5). Initialisation and dropout draw from Xoshiro256 streams split off
/// `config.seed`, so a run is reproducible; `act` samples from the caller's generator.
///
/// Not Sendable: one task or thread owns an agent. Tapes and input buffers are reused
/// across calls, so after the first update of a given batch size nothing is allocated
/// on the tape side.
///
/// Policy files are safetensors with the tensor names of `MEowFlow` (for example
/// `log_sigma_net.layer0.weight`, `coupling1.layer0.norm.gamma`,
/// `coupling1.layer0.swish.beta`, `reward_shift1.layer2.bias`) and metadata keys
/// `format` = `meow-policy`, `format_version`, `observation_dimension`,
/// `action_dimension`, `alpha`, `log_sigma_min`, `log_sigma_max`, `coupling_layers`,
/// `reward_shift_heads`.
public final class MEowAgent {
    public let config: MEowConfig
    /// Extra policy-file metadata: "environment" (the canonical name) and "model" (a MuJoCo
    /// model file), set by whoever trains the agent; never changes the policy itself.
    public var provenance: [String: String] = [:]
    public let observationDimension: Int
    public let actionDimension: Int
    /// Successful (not skipped) updates so far; the learner's policy version.
    public internal(set) var updateCount = 0
    /// Updates skipped because the loss or gradient norm was not finite.
    public internal(set) var skippedUpdates = 0

    /// The module definitions, shared by the online and the target store.
    public let flow: MEowFlow<Float>
    /// θ: what `act` uses and Adam trains.
    public let online: ParameterStore<Float>
    /// θ̄: the Polyak average that the Bellman target reads.
    public let target: ParameterStore<Float>
    let optimizer: Adam<Float>
    /// Dropout masks of the online Q forward (train mode).
    var dropoutRNG: Xoshiro256

    /// Records the online Q forward of `update`.
    let lossTape = Tape<Float>()
    /// Inference tape for the target value (no gradient).
    let targetTape = Tape<Float>(recording: false)
    /// Inference tape for `act` and `values`.
    let inferenceTape = Tape<Float>(recording: false)
    /// Batch tensors reused across updates of the same size.
    var batch: Batch?

    /// Builds the online and target flows for ds = `observationDimension`, d = `actionDimension`.
    public init(config: MEowConfig, observationDimension: Int, actionDimension: Int) throws(MEowConfigError) {
        try config.validate()
        guard observationDimension > 0 else {
            throw MEowConfigError(field: "observation-dimension", expected: "a positive size, got \(observationDimension)")
        }
        guard actionDimension > 0 else {
            throw MEowConfigError(field: "action-dimension", expected: "a positive size, got \(actionDimension)")
        }
        self.config = config
        self.observationDimension = observationDimension
        self.actionDimension = actionDimension
        flow = MEowFlow(config: config, observationDimension: observationDimension, actionDimension: actionDimension)
        online = ParameterStore(layout: flow.layout)
        target = ParameterStore(layout: flow.layout)
        var root = Xoshiro256(seed: config.seed)
        var initialization = root.split()
        dropoutRNG = root.split()
        flow.initialize(online, rng: &initialization)
        target.copyValues(from: online)
        optimizer = Adam(layout: flow.layout, configuration: .init(learningRate: Double(config.learningRate)))
    }

    // MARK: - Acting

    /// Actions in [−1, 1] for `count` observations (row-major [count × ds]); eval mode, no gradient.
    ///
    /// Stochastic: ε ~ N(0, I) from `rng`; deterministic: z₀ = 0 (§3.5), which draws nothing.
    public func act(observations: [Float], count: Int, deterministic: Bool, rng: inout Xoshiro256) -> [Float] {
        if count == 0 { return [] }
        let tape = inferenceTape
        tape.reset()
        let states = tape.constant(inputTensor(observations, count, observationDimension, "observations"))
        var noise: Variable<Float>?
        if !deterministic {
            let epsilon = Tensor<Float>(zeros: count, actionDimension)
            Kernels.fillNormal(epsilon, rng: &rng)
            noise = tape.constant(epsilon)
        }
        return flow.generate(states: states, noise: noise, store: online, tape: tape).value.scalars
    }

    /// Soft value V(s) = min_j V_j(s) for `count` observations, eval mode (head 1 alone without SCDQ).
    ///
    /// The min over the heads is the value the Bellman target bootstraps from (§4.4).
    public func values(observations: [Float], count: Int) -> [Float] {
        if count == 0 { return [] }
        let tape = inferenceTape
        tape.reset()
        let states = tape.constant(inputTensor(observations, count, observationDimension, "observations"))
        let heads = flow.softValues(states, store: online, tape: tape)
        var v = heads[0]
        for head in heads.dropFirst() { v = tape.minimum(v, head) }
        return v.value.scalars
    }

    // MARK: - Learning

    /// One MEow update (docs/algorithm.md §4.8) on a replay batch of `count` rows.
    ///
    /// Columns are row-major: observations and next observations [count × ds],
    /// actions [count × d] in [−1, 1], rewards and terminations [count] (0/1 floats).
    /// Dropout masks come from the agent's own generator, seeded from `config.seed`.
    public func update(observations: [Float], actions: [Float], rewards: [Float],
                       terminations: [Float], nextObservations: [Float], count: Int) -> UpdateMetrics {
        // 1. The sampled batch.
        let batch = batchTensors(count)
        batch.states.fill(from: observations, "observations")
        batch.actions.fill(from: actions, "actions")
        batch.rewards.fill(from: rewards, "rewards")
        batch.terminations.fill(from: terminations, "terminations")
        batch.nextStates.fill(from: nextObservations, "nextObservations")

        // 2. Target value y = r + γ(1 − term)·min_j V̄_j(s'): target store, no gradient, eval mode.
        targetTape.reset()
        let y = flow.bellmanTarget(rewards: batch.rewards, terminations: batch.terminations,
                                   nextStates: batch.nextStates, gamma: Double(config.gamma),
                                   targetStore: target, tape: targetTape)

        // 3. Loss L = ½ Σ_j MSE(Q_j(s, a), y): online store, train mode (dropout in the couplings).
        lossTape.reset()
        online.zeroGradients()
        let objective = flow.bellmanLoss(states: batch.states, actions: batch.actions, targets: y.target,
                                         store: online, tape: lossTape, dropout: &dropoutRNG)

        // 4. Backward into the online store's flat gradient buffer.
        lossTape.backward(from: objective.loss)

        // 5. Clip the global gradient norm (docs/algorithm.md §4.7); a non-finite loss or norm skips the step (§7.8).
        let loss = objective.loss.value[0, 0]
        let norm = online.clipGradientNorm(maxNorm: Double(config.gradClip))
        let skipped = !loss.isFinite || !norm.isFinite
        if skipped {
            skippedUpdates += 1
        } else {
            // 6. Adam on θ.
            optimizer.update(online)
            // 7. Polyak: θ̄ ← τθ + (1 − τ)θ̄, every step.
            target.polyakUpdate(toward: online, tau: Double(config.tau))
            updateCount += 1
        }

        // 8. Metrics.
        let logSigma = objective.logSigma.value
        return UpdateMetrics(
            loss: loss, gradientNorm: Float(norm), skipped: skipped,
            meanQ: Kernels.sum(objective.q[0].value) / Float(count),
            meanTargetV: Kernels.sum(y.nextValue) / Float(count),
            meanLogSigma: Kernels.sum(logSigma) / Float(logSigma.count),
            minLogSigma: logSigma.scalars.min() ?? .nan, maxLogSigma: logSigma.scalars.max() ?? .nan)
    }

    /// GEMM FLOPs of the last update, target value, forward and backward (2·m·n·k per product, docs/benchmarks.md).
    public var lastUpdateGEMMFLOPs: Int { targetTape.gemmFLOPs + lossTape.gemmFLOPs }

    /// Copies the online weights into the target (§4.5's θ̄ ← θ), e.g. after loading a policy to train on.
    public func synchronizeTarget() { target.copyValues(from: online) }

    // MARK: - Inputs

    /// The tensors of one replay batch, reused while the batch size stays the same.
    struct Batch {
        let states, actions, rewards, terminations, nextStates: Tensor<Float>
    }

    func batchTensors(_ count: Int) -> Batch {
        precondition(count > 0, "update needs at least one row")
        if let batch, batch.rewards.rows == count { return batch }
        let made = Batch(states: Tensor(zeros: count, observationDimension), actions: Tensor(zeros: count, actionDimension),
                         rewards: Tensor(zeros: count, 1), terminations: Tensor(zeros: count, 1),
                         nextStates: Tensor(zeros: count, observationDimension))
        batch = made
        return made
    }

    func inputTensor(_ values: [Float], _ rows: Int, _ cols: Int, _ what: String) -> Tensor<Float> {
        precondition(rows > 0, "\(what): need at least one row, got \(rows)")
        let t = Tensor<Float>(zeros: rows, cols)
        t.fill(from: values, what)
        return t
    }
}

extension Tensor where Scalar == Float {
    /// Copies row-major `values` (exactly `count` of them) into this tensor.
    func fill(from values: [Float], _ what: String) {
        precondition(values.count == count, "\(what): \(values.count) values for shape \(shape)")
        let dst = buffer
        values.withUnsafeBufferPointer { src in
            if count > 0 { dst.baseAddress!.update(from: src.baseAddress!, count: count) }
        }
    }
}
