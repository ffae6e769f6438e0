import NN

/// The soft Bellman regression, MEow's only loss (docs/algorithm.md §4.1, §4.2, §4.4, §4.8).
extension MEowFlow {
    /// The regression target y and the value it bootstraps from.
    public struct BellmanTarget {
        /// y = r + γ(1 − term)·min_j V̄_j(s'), [B, 1].
        public var target: Tensor<Scalar>
        /// min_j V̄_j(s'), [B, 1] (soft value scale), for metrics.
        public var nextValue: Tensor<Scalar>
    }

    /// y = r + γ(1 − term)·min_j V̄_j(s') from the target store (§4.1).
    ///
    /// Run it on an inference tape: the target is a constant, evaluated in eval mode
    /// (docs/algorithm.md §7.5). It needs only h̄_σ and the shift heads, no action and no coupling
    /// net (docs/algorithm.md §7.11). `terminations` masks bootstrapping, truncations do not (§4.6, §7.6).
    /// Since α > 0, the min over the V̄_j is the V computed with min(b̄_1, b̄_2) (§4.4).
    public func bellmanTarget(rewards: Tensor<Scalar>, terminations: Tensor<Scalar>, nextStates: Tensor<Scalar>,
                              gamma: Double, targetStore: ParameterStore<Scalar>, tape: Tape<Scalar>) -> BellmanTarget {
        precondition(rewards.hasShape(nextStates.rows, 1) && terminations.hasShape(nextStates.rows, 1),
                     "bellmanTarget: rewards \(rewards.shape), terminations \(terminations.shape) for \(nextStates.rows) rows")
        let values = softValues(tape.constant(nextStates), store: targetStore, tape: tape)
        var nextValue = values[0]
        for v in values.dropFirst() { nextValue = tape.minimum(nextValue, v) }
        let discount = tape.affine(tape.constant(terminations), scale: -gamma, shift: gamma)  // γ(1 − term)
        let y = tape.add(tape.constant(rewards), tape.multiply(discount, nextValue))
        return BellmanTarget(target: y.value, nextValue: nextValue.value)
    }

    /// The online side of one update: the loss and what the metrics need.
    public struct BellmanLoss {
        /// L = ½ Σ_j MSE(Q_j(s, a), y) with two heads; the single MSE with one; [1, 1].
        public var loss: Variable<Scalar>
        /// Q_j(s, a) per head, [B, 1].
        public var q: [Variable<Scalar>]
        /// log σ(s), [B, d].
        public var logSigma: Variable<Scalar>
    }

    /// L(θ) = ½[mean (Q_1 − y)² + mean (Q_2 − y)²] (docs/algorithm.md §4.2): both heads regress to the same y (§7.4).
    ///
    /// The Q forward runs in train mode: `dropout` draws the couplings' masks (docs/algorithm.md §7.5).
    /// The loss is the mean of the heads' MSEs, which is ½ Σ_j for SCDQ (the official
    /// MSE over the duplicated batch) and the plain MSE with one head. Gradients reach
    /// the couplings via u0, h_σ via −½‖u0/σ‖² and b_j directly; the online V is unused.
    public func bellmanLoss(states: Tensor<Scalar>, actions: Tensor<Scalar>, targets: Tensor<Scalar>,
                            store: ParameterStore<Scalar>, tape: Tape<Scalar>,
                            dropout rng: inout Xoshiro256) -> BellmanLoss {
        precondition(targets.hasShape(states.rows, 1), "bellmanLoss: targets \(targets.shape) for \(states.rows) rows")
        let s = tape.constant(states)
        var generator: Xoshiro256? = rng
        let density = density(states: s, actions: tape.constant(actions), store: store, tape: tape, dropout: &generator)
        rng = generator!
        let q = softQ(kernel: density.kernel, shifts: rewardShifts(s, store: store, tape: tape), tape: tape)
        let y = tape.constant(targets)
        var total = tape.mean(tape.square(tape.subtract(q[0], y)))
        for qj in q.dropFirst() { total = tape.add(total, tape.mean(tape.square(tape.subtract(qj, y)))) }
        let loss = q.count == 1 ? total : tape.scale(total, by: 1 / Double(q.count))
        return BellmanLoss(loss: loss, q: q, logSigma: density.logSigma)
    }
}
