/// Adam with bias correction over a flat parameter store (PyTorch's defaults and formula).
public final class Adam<Scalar: TensorScalar> {
    /// Adam's hyperparameters; the defaults are PyTorch's.
    public struct Configuration: Sendable, Equatable {
        public var learningRate: Double
        public var beta1: Double
        public var beta2: Double
        public var epsilon: Double

        public init(learningRate: Double = 1e-3, beta1: Double = 0.9, beta2: Double = 0.999, epsilon: Double = 1e-8) {
            self.learningRate = learningRate
            self.beta1 = beta1
            self.beta2 = beta2
            self.epsilon = epsilon
        }
    }

    public var configuration: Configuration
    /// Steps taken so far (the t of the bias correction).
    public private(set) var step = 0
    /// beta1^step and beta2^step as running products: one multiplication per update, whatever the step,
    /// and the same bits as multiplying step times from 1. `betas` records the pair they were built for.
    private var powers = BiasPowers(betas: (0.9, 0.999), step: 0)
    /// First-moment estimates, in the store's flat layout.
    public let firstMoment: Tensor<Scalar>
    /// Second-moment estimates, in the store's flat layout.
    public let secondMoment: Tensor<Scalar>

    public init(layout: ParameterLayout, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        powers = BiasPowers(betas: (configuration.beta1, configuration.beta2), step: 0)
        firstMoment = Tensor(zeros: 1, layout.scalarCount)
        secondMoment = Tensor(zeros: 1, layout.scalarCount)
    }

    /// Applies one update to `store.values` from `store.gradients`.
    public func update(_ store: ParameterStore<Scalar>) {
        precondition(store.values.count == firstMoment.count, "Adam: store size differs from the optimizer's")
        step += 1
        let betas = (configuration.beta1, configuration.beta2)
        if powers.betas != betas {
            powers = BiasPowers(betas: betas, step: step)  // the betas were changed: rebuild once
        } else {
            powers.advance()
        }
        Kernels.adamStep(parameters: store.values, gradients: store.gradients, m: firstMoment, v: secondMoment,
                         learningRate: configuration.learningRate, beta1: betas.0, beta2: betas.1,
                         epsilon: configuration.epsilon, beta1Power: powers.beta1, beta2Power: powers.beta2)
    }

    /// Restores the step counter (with the moments, e.g. from a checkpoint) and rebuilds beta^step
    /// with one loop, so a resumed run continues with exactly the bits it would have had.
    public func restore(step: Int) {
        self.step = step
        powers = BiasPowers(betas: (configuration.beta1, configuration.beta2), step: step)
    }
}

/// beta1^t and beta2^t, advanced by one multiplication per step.
private struct BiasPowers {
    var betas: (Double, Double)
    var beta1 = 1.0
    var beta2 = 1.0

    /// The powers at `step`, multiplied up from 1 (the same order of operations as `advance`).
    init(betas: (Double, Double), step: Int) {
        self.betas = betas
        for _ in 0..<max(step, 0) { advance() }
    }

    mutating func advance() {
        beta1 *= betas.0
        beta2 *= betas.1
    }
}
