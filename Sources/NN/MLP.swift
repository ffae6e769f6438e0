/// A fully connected layer y = x W^T + b with W [out, in] (PyTorch's layout).
public struct Linear: Sendable, Equatable {
    public let weight: ParameterSlot
    public let bias: ParameterSlot
    public var inFeatures: Int { weight.cols }
    public var outFeatures: Int { weight.rows }

    /// Registers "<name>.weight" [out, in] and "<name>.bias" [1, out] in `layout`.
    public init(_ inFeatures: Int, _ outFeatures: Int, name: String, layout: inout ParameterLayout) {
        weight = layout.add("\(name).weight", rows: outFeatures, cols: inFeatures)
        bias = layout.add("\(name).bias", count: outFeatures)
    }

    /// Initialises the weight by `scheme` and the bias with PyTorch's default.
    public func initialize<S: TensorScalar>(_ store: ParameterStore<S>, scheme: LinearInitialization,
                                            rng: inout Xoshiro256) {
        switch scheme {
        case .zero: store.value(weight).fill(0)
        case let .orthogonal(gain): Initializer.orthogonal(store.value(weight), gain: gain, rng: &rng)
        case .pytorchDefault: Initializer.pytorchUniform(store.value(weight), fanIn: inFeatures, rng: &rng)
        }
        Initializer.pytorchUniform(store.value(bias), fanIn: inFeatures, rng: &rng)
    }

    public func callAsFunction<S: TensorScalar>(_ x: Variable<S>, store: ParameterStore<S>, tape: Tape<S>) -> Variable<S> {
        tape.linear(x, weight: store.variable(weight, on: tape), bias: store.variable(bias, on: tape))
    }
}

/// The MLP block of docs/algorithm.md §2.7.
///
/// For sizes [n0, ..., nK], each hidden layer k is Linear(n_{k-1}, n_k) ->
/// [LayerNorm(n_k)] -> Swish(n_k, learnable beta per unit, init 1) ->
/// [Dropout(p)], and a final Linear(n_{K-1}, n_K) has no activation.
///
/// Parameter names: "<prefix>.layer<k>.weight" [out, in], ".bias" [out], "<prefix>.layer<k>.norm.gamma",
/// ".norm.beta", "<prefix>.layer<k>.swish.beta", with k counting Linear layers from 0.
public struct MLP: Sendable, Equatable {
    /// The block's shape and options.
    public struct Configuration: Sendable, Equatable {
        /// [n0, n1, ..., nK]; at least two entries.
        public var sizes: [Int]
        /// LayerNorm after each hidden Linear.
        public var layerNorm: Bool
        /// Dropout probability after each hidden Swish (0 for none).
        public var dropout: Double
        /// Weight initialisation of every Linear.
        public var initialization: LinearInitialization

        public init(sizes: [Int], layerNorm: Bool = false, dropout: Double = 0,
                    initialization: LinearInitialization = .pytorchDefault) {
            self.sizes = sizes
            self.layerNorm = layerNorm
            self.dropout = dropout
            self.initialization = initialization
        }
    }

    /// One hidden layer's parameter slots.
    public struct Hidden: Sendable, Equatable {
        public let linear: Linear
        public let normGamma: ParameterSlot?
        public let normBeta: ParameterSlot?
        public let swishBeta: ParameterSlot
    }

    public let configuration: Configuration
    public let hidden: [Hidden]
    public let output: Linear

    /// Registers every parameter under `prefix` in `layout`.
    public init(_ configuration: Configuration, prefix: String, layout: inout ParameterLayout) {
        let sizes = configuration.sizes
        precondition(sizes.count >= 2, "MLP needs at least input and output sizes, got \(sizes)")
        precondition(configuration.dropout >= 0 && configuration.dropout < 1, "dropout \(configuration.dropout) outside [0, 1)")
        self.configuration = configuration
        var hidden: [Hidden] = []
        for k in 0..<(sizes.count - 2) {
            let name = "\(prefix).layer\(k)"
            let linear = Linear(sizes[k], sizes[k + 1], name: name, layout: &layout)
            let gamma = configuration.layerNorm ? layout.add("\(name).norm.gamma", count: sizes[k + 1]) : nil
            let beta = configuration.layerNorm ? layout.add("\(name).norm.beta", count: sizes[k + 1]) : nil
            let swish = layout.add("\(name).swish.beta", count: sizes[k + 1])
            hidden.append(Hidden(linear: linear, normGamma: gamma, normBeta: beta, swishBeta: swish))
        }
        self.hidden = hidden
        output = Linear(sizes[sizes.count - 2], sizes[sizes.count - 1], name: "\(prefix).layer\(sizes.count - 2)",
                        layout: &layout)
    }

    /// Every slot this MLP owns, in registration order.
    public var slots: [ParameterSlot] {
        hidden.flatMap { h in [h.linear.weight, h.linear.bias] + [h.normGamma, h.normBeta].compactMap { $0 } + [h.swishBeta] }
            + [output.weight, output.bias]
    }

    /// Initialises the weights by the configured scheme, LayerNorm to (1, 0) and Swish betas to 1.
    public func initialize<S: TensorScalar>(_ store: ParameterStore<S>, rng: inout Xoshiro256) {
        for h in hidden {
            h.linear.initialize(store, scheme: configuration.initialization, rng: &rng)
            if let gamma = h.normGamma { store.value(gamma).fill(1) }
            if let beta = h.normBeta { store.value(beta).fill(0) }
            store.value(h.swishBeta).fill(1)
        }
        output.initialize(store, scheme: configuration.initialization, rng: &rng)
    }

    /// Evaluation mode: dropout off. Use an inference tape for target networks.
    public func forward<S: TensorScalar>(_ x: Variable<S>, store: ParameterStore<S>, tape: Tape<S>) -> Variable<S> {
        var unused = Xoshiro256(seed: 0)
        return apply(x, store: store, tape: tape, dropout: 0, rng: &unused)
    }

    /// Training mode: dropout on, masks drawn from `rng`.
    public func forward<S: TensorScalar>(_ x: Variable<S>, store: ParameterStore<S>, tape: Tape<S>,
                                         training rng: inout Xoshiro256) -> Variable<S> {
        apply(x, store: store, tape: tape, dropout: configuration.dropout, rng: &rng)
    }

    private func apply<S: TensorScalar>(_ x: Variable<S>, store: ParameterStore<S>, tape: Tape<S>,
                                        dropout: Double, rng: inout Xoshiro256) -> Variable<S> {
        precondition(x.cols == configuration.sizes[0], "MLP input \(x.shape) for sizes \(configuration.sizes)")
        var h = x
        for layer in hidden {
            h = layer.linear(h, store: store, tape: tape)
            if let gamma = layer.normGamma, let beta = layer.normBeta {
                h = tape.layerNorm(h, gamma: store.variable(gamma, on: tape), beta: store.variable(beta, on: tape))
            }
            h = tape.swish(h, beta: store.variable(layer.swishBeta, on: tape))
            if dropout > 0 { h = tape.dropout(h, probability: dropout, rng: &rng) }
        }
        return output(h, store: store, tape: tape)
    }
}
