import Foundation
@_exported import NN

/// The state-conditioned energy-based normalizing flow that is MEow's policy, Q and V at once.
///
/// docs/algorithm.md §2 and §3. In generation order (latent -> action):
///
///     ε ~ N(0, I)  ->  z0 = σ(s) ⊙ ε  ->  C1(m) -> C2(1−m) -> C3(m) -> C4(1−m)  ->  tanh  ->  clamp
///
/// with log σ(s) = σ_min + ½(σ_max − σ_min)(tanh h_σ(s) + 1) the only linear layer
/// (the linear layer of §1.2, §2.1), and additive couplings z ← z + (1 − m_k) ⊙ t_k([m_k ⊙ z ; s]) that are
/// volume preserving. The reward-shift heads b_j(s) (§4.3, §4.4) are a pseudo-layer that
/// adds the same α·b_j to Q and V. The density direction (action -> latent) runs the
/// same layers backwards with the same t_k and masks (docs/algorithm.md §2.4, §7.1).
///
/// The struct holds only the module definitions (parameter slots, masks, bounds): the
/// weights live in a `ParameterStore` passed to every call, so one definition runs on
/// the online and on the target store (§4.5). It is generic so the tests can run the
/// exact same code in Float64.
///
/// Parameter names (and so safetensors tensor names), with k counting Linear layers from 0:
/// - `log_sigma_net.layer<k>.{weight,bias,swish.beta}`: h_σ, [ds, 64, 64, d];
/// - `coupling<i>.layer<k>.{weight,bias,norm.gamma,norm.beta,swish.beta}`: t_i, i = 1...4, [d + ds, 64, 64, d];
/// - `reward_shift<j>.layer<k>.{weight,bias,swish.beta}`: b_j, j = 1, 2, [ds, 256, 256, 1].
/// Weights are [out, in] and 1-D parameters [n], as PyTorch's state_dict has them.
public struct MEowFlow<Scalar: TensorScalar> {
    /// ds.
    public let observationDimension: Int
    /// d.
    public let actionDimension: Int
    /// Temperature α, multiplying the whole log-density bracket of Q and V (§3.1, §3.2).
    public let alpha: Double
    /// Bounds of the smooth squashing of log σ (docs/algorithm.md §2.1, §7.7).
    public let logSigmaMin: Double
    public let logSigmaMax: Double
    /// h_σ: the hypernetwork of the linear layer.
    public let logSigmaNet: MLP
    /// t_1 ... t_K, applied in this order when generating.
    public let couplings: [MLP]
    /// b_1, b_2 (SCDQ), b_1 only (no SCDQ) or none (no LRS: b ≡ 0).
    public let rewardShifts: [MLP]
    /// Every parameter of the modules above, in registration order.
    public let layout: ParameterLayout
    /// m_k, [1, d], per coupling: what the net sees (1) and what passes unchanged.
    let conditioningMasks: [Tensor<Scalar>]
    /// 1 − m_k, [1, d]: the dimensions coupling k shifts.
    let shiftedMasks: [Tensor<Scalar>]

    /// Float32 machine epsilon inside log(1 − ã² + ε32), kept in Float64 too so both builds compute the same formula (§2.5).
    public static var tanhEpsilon: Double { Double(Float.ulpOfOne) }
    /// Actions are clamped to ±(1 − 1e−5) before atanh (docs/algorithm.md §2.5, §7.7).
    public static var actionClamp: Double { 1 - 1e-5 }

    /// Builds the module definitions for `config`'s widths, bounds and ablations.
    ///
    /// The caller validates `config` (MEowAgent does); dimensions must be positive.
    public init(config: MEowConfig, observationDimension ds: Int, actionDimension d: Int) {
        precondition(ds > 0 && d > 0, "MEowFlow needs positive dimensions, got ds \(ds), d \(d)")
        observationDimension = ds
        actionDimension = d
        alpha = Double(config.alpha)
        logSigmaMin = Double(config.logSigmaMin)
        logSigmaMax = Double(config.logSigmaMax)
        let flow = config.flowHidden, shift = config.shiftHidden
        var layout = ParameterLayout()
        // §2.8, §2.9: h_σ and the shift heads are zero-initialised with neither LayerNorm nor
        // dropout; the couplings are orthogonal with LayerNorm and dropout.
        logSigmaNet = MLP(.init(sizes: [ds, flow, flow, d], initialization: .zero), prefix: "log_sigma_net",
                          layout: &layout)
        couplings = (0..<config.couplingLayers).map { k in
            MLP(.init(sizes: [d + ds, flow, flow, d], layerNorm: true, dropout: Double(config.couplingDropout),
                      initialization: .orthogonal(gain: 1)),
                prefix: "coupling\(k + 1)", layout: &layout)
        }
        let heads = !config.rewardShift ? 0 : config.clippedDoubleQ ? 2 : 1
        rewardShifts = (0..<heads).map { j in
            MLP(.init(sizes: [ds, shift, shift, 1], initialization: .zero), prefix: "reward_shift\(j + 1)",
                layout: &layout)
        }
        self.layout = layout
        // §2.2: m_i = 1 for even 0-based i, so an odd d has ⌈d/2⌉ ones; masks alternate m, 1 − m.
        let m = (0..<d).map { i in Scalar(i % 2 == 0 ? 1 : 0) }
        let complement = m.map { 1 - $0 }
        conditioningMasks = (0..<config.couplingLayers).map { k in Tensor(rows: 1, cols: d, k % 2 == 0 ? m : complement) }
        shiftedMasks = (0..<config.couplingLayers).map { k in Tensor(rows: 1, cols: d, k % 2 == 0 ? complement : m) }
    }

    /// Initialises `store` as docs/algorithm.md §2.9 prescribes.
    ///
    /// Each module draws from its own child stream of `rng`, split in a fixed order
    /// (h_σ, couplings, two shift heads) whether or not a head exists, so turning an
    /// ablation on or off leaves the other modules' initial weights unchanged.
    public func initialize(_ store: ParameterStore<Scalar>, rng: inout Xoshiro256) {
        precondition(store.layout == layout, "initialize: the store's layout is not this flow's")
        var stream = rng.split()
        logSigmaNet.initialize(store, rng: &stream)
        for coupling in couplings {
            stream = rng.split()
            coupling.initialize(store, rng: &stream)
        }
        for j in 0..<2 {
            stream = rng.split()
            if j < rewardShifts.count { rewardShifts[j].initialize(store, rng: &stream) }
        }
    }

    // MARK: - State-only parts

    /// log σ(s) = σ_min + ½(σ_max − σ_min)(tanh h_σ(s) + 1), [B, d] (§2.1): a smooth squashing, no hard clamp.
    public func logSigma(_ states: Variable<Scalar>, store: ParameterStore<Scalar>, tape: Tape<Scalar>) -> Variable<Scalar> {
        let h = logSigmaNet.forward(states, store: store, tape: tape)
        let half = (logSigmaMax - logSigmaMin) / 2
        return tape.affine(tape.tanh(h), scale: half, shift: logSigmaMin + half)
    }

    /// b_j(s), one [B, 1] per head; empty without reward shifting (b ≡ 0).
    ///
    /// The heads have dropout 0 (§2.8), so train and eval mode coincide.
    public func rewardShifts(_ states: Variable<Scalar>, store: ParameterStore<Scalar>,
                             tape: Tape<Scalar>) -> [Variable<Scalar>] {
        rewardShifts.map { $0.forward(states, store: store, tape: tape) }
    }

    /// V_j(s) = α[Σ log σ(s) + (d/2) log 2π + b_j(s)], one [B, 1] per head (§3.2).
    ///
    /// Needs neither an action nor the coupling nets (docs/algorithm.md §3.2, §7.11). Without reward
    /// shifting there is one value with b ≡ 0.
    public func softValues(_ states: Variable<Scalar>, store: ParameterStore<Scalar>,
                           tape: Tape<Scalar>) -> [Variable<Scalar>] {
        let logSigma = logSigma(states, store: store, tape: tape)
        let shifts = rewardShifts(states, store: store, tape: tape)
        return softValues(logSigma: logSigma, shifts: shifts, tape: tape)
    }

    /// V_j from an already computed log σ and shifts.
    func softValues(logSigma: Variable<Scalar>, shifts: [Variable<Scalar>], tape: Tape<Scalar>) -> [Variable<Scalar>] {
        // §3.3: the Gaussian normaliser (d/2) log 2π goes into V, not Q; the linear layer's
        // log-det enters V with a plus sign.
        let normaliser = 0.5 * Double(actionDimension) * Foundation.log(2 * Double.pi)
        let bracket = tape.add(tape.rowSum(logSigma), constant: normaliser)
        if shifts.isEmpty { return [tape.scale(bracket, by: alpha)] }
        return shifts.map { tape.scale(tape.add(bracket, $0), by: alpha) }
    }

    // MARK: - Generation (latent -> action)

    /// Actions in [−1, 1], [B, d]: tanh of the coupling stack applied to z0 (§2.3).
    ///
    /// `noise` is ε ~ N(0, I) [B, d] for a stochastic action (z0 = σ(s) ⊙ ε); nil gives
    /// the deterministic action z0 = 0 (docs/algorithm.md §3.5, §7.15), which needs no h_σ.
    /// Eval mode: acting never uses dropout (docs/algorithm.md §7.5).
    public func generate(states: Variable<Scalar>, noise: Variable<Scalar>?, store: ParameterStore<Scalar>,
                         tape: Tape<Scalar>) -> Variable<Scalar> {
        var z: Variable<Scalar>
        if let noise {
            precondition(noise.rows == states.rows && noise.cols == actionDimension, "generate: noise \(noise.shape)")
            z = tape.multiply(tape.exp(logSigma(states, store: store, tape: tape)), noise)
        } else {
            z = tape.constant(Tensor(zeros: states.rows, actionDimension))
        }
        z = latentToPreTanh(z, states: states, store: store, tape: tape)
        return tape.clamp(tape.tanh(z), lower: -1, upper: 1)
    }

    /// z_K from z0: z_k = z_{k−1} + (1 − m_k) ⊙ t_k([m_k ⊙ z_{k−1} ; s]) for k = 1 ... K.
    public func latentToPreTanh(_ z0: Variable<Scalar>, states: Variable<Scalar>, store: ParameterStore<Scalar>,
                                tape: Tape<Scalar>) -> Variable<Scalar> {
        var unused: Xoshiro256? = nil
        var z = z0
        for k in couplings.indices {
            z = tape.add(z, couplingShift(k, z, states: states, store: store, tape: tape, dropout: &unused))
        }
        return z
    }

    /// (1 − m_k) ⊙ t_k([m_k ⊙ z ; s]): the net sees the masked vector with zeros left in place,
    /// then the raw state (docs/algorithm.md §2.2, §7.1). Train mode when `dropout` holds a generator.
    func couplingShift(_ k: Int, _ z: Variable<Scalar>, states: Variable<Scalar>, store: ParameterStore<Scalar>,
                       tape: Tape<Scalar>, dropout rng: inout Xoshiro256?) -> Variable<Scalar> {
        let input = tape.concatColumns([tape.multiply(z, mask: conditioningMasks[k]), states])
        let t: Variable<Scalar>
        if var generator = rng {
            t = couplings[k].forward(input, store: store, tape: tape, training: &generator)
            rng = generator
        } else {
            t = couplings[k].forward(input, store: store, tape: tape)
        }
        return tape.multiply(t, mask: shiftedMasks[k])
    }

    // MARK: - Density direction (action -> latent)

    /// What the density direction yields for a batch of (s, a).
    public struct Density {
        /// u0, [B, d]: the latent before the σ-scaling.
        public var latent: Variable<Scalar>
        /// log σ(s), [B, d].
        public var logSigma: Variable<Scalar>
        /// The non-linear part of Q/α without the shift: −½ Σ (u0/σ)² − Σ log(1 − ã² + ε32), [B, 1].
        public var kernel: Variable<Scalar>
    }

    /// Runs the density direction: clamp, atanh, couplings K ... 1 inverted (§2.4).
    ///
    /// `dropout` holds the generator for train mode (the online Q of the loss, docs/algorithm.md §7.5);
    /// nil is eval mode.
    public func density(states: Variable<Scalar>, actions: Variable<Scalar>, store: ParameterStore<Scalar>,
                        tape: Tape<Scalar>, dropout rng: inout Xoshiro256?) -> Density {
        precondition(actions.rows == states.rows && actions.cols == actionDimension
                     && states.cols == observationDimension, "density: states \(states.shape), actions \(actions.shape)")
        let bound = MEowFlow.actionClamp
        let clamped = tape.clamp(actions, lower: -bound, upper: bound)
        // The tanh layer's inverse log-det, −Σ log(1 − ã² + ε32) (docs/algorithm.md §2.5, §7.7: keep the ε).
        let oneMinusSquare = tape.affine(tape.square(clamped), scale: -1, shift: 1 + MEowFlow.tanhEpsilon)
        let tanhTerm = tape.negate(tape.rowSum(tape.log(oneMinusSquare)))
        var u = tape.atanh(clamped)
        for k in couplings.indices.reversed() {
            // Exact inverse: the dimensions the net sees are the ones coupling k left unchanged.
            u = tape.subtract(u, couplingShift(k, u, states: states, store: store, tape: tape, dropout: &rng))
        }
        let logSigma = logSigma(states, store: store, tape: tape)
        // NOTE: u0/σ as u0 · exp(−log σ) straight from log σ (docs/algorithm.md §7.17), not a division by σ.
        let standardised = tape.multiply(u, tape.exp(tape.negate(logSigma)))
        let gaussian = tape.scale(tape.rowSum(tape.square(standardised)), by: -0.5)
        return Density(latent: u, logSigma: logSigma, kernel: tape.add(gaussian, tanhTerm))
    }

    /// Q_j(s, a) = α[−½ Σ (u0/σ)² − Σ log(1 − ã² + ε32) + b_j(s)], one [B, 1] per head (§3.1).
    ///
    /// The shift sits inside the α-bracket exactly as in V (docs/algorithm.md §7.3).
    public func softQ(kernel: Variable<Scalar>, shifts: [Variable<Scalar>], tape: Tape<Scalar>) -> [Variable<Scalar>] {
        if shifts.isEmpty { return [tape.scale(kernel, by: alpha)] }
        return shifts.map { tape.scale(tape.add(kernel, $0), by: alpha) }
    }

    /// log π(a|s) = log N(u0; 0, diag σ²) − Σ log(1 − ã² + ε32), [B, 1], by the change of variables alone.
    ///
    /// The identity α·log π = Q − V (§3.4, §8.1) holds by construction; the tests check this
    /// function against a numerically built Jacobian of the density direction.
    public func logProbability(_ density: Density, tape: Tape<Scalar>) -> Variable<Scalar> {
        let normaliser = 0.5 * Double(actionDimension) * Foundation.log(2 * Double.pi)
        let logDetScale = tape.rowSum(density.logSigma)
        return tape.add(tape.subtract(density.kernel, logDetScale), constant: -normaliser)
    }
}
