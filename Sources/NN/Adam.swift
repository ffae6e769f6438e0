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
    /// First-moment estimates, in the store's flat layout.
    public let firstMoment: Tensor<Scalar>
    /// Second-moment estimates, in the store's flat layout.
    public let secondMoment: Tensor<Scalar>

    public init(layout: ParameterLayout, configuration: Configuration = Configuration()) {
        self.configuration = configuration
        firstMoment = Tensor(zeros: 1, layout.scalarCount)
        secondMoment = Tensor(zeros: 1, layout.scalarCount)
    }

    /// Applies one update to `store.values` from `store.gradients`.
    public func update(_ store: ParameterStore<Scalar>) {
        precondition(store.values.count == firstMoment.count, "Adam: store size differs from the optimizer's")
        step += 1
        Kernels.adamStep(parameters: store.values, gradients: store.gradients, m: firstMoment, v: secondMoment,
                         learningRate: configuration.learningRate, beta1: configuration.beta1,
                         beta2: configuration.beta2, epsilon: configuration.epsilon, step: step)
    }

    /// Restores the step counter (with the moments, e.g. from a checkpoint).
    public func restore(step: Int) { self.step = step }
}
