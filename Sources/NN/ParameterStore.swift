@_exported import Autodiff

/// Where one named parameter tensor lives inside a flat parameter buffer.
public struct ParameterSlot: Sendable, Hashable {
    /// Position in the layout's `slots`.
    public let index: Int
    /// A self-explaining name such as "coupling1.layer0.weight".
    public let name: String
    /// Offset of element [0, 0] in the flat buffer.
    public let offset: Int
    public let rows: Int
    public let cols: Int
    /// True for 1-D parameters (biases, norms, Swish betas): stored as [1, n],
    /// saved with shape [n] as PyTorch has them.
    public let isVector: Bool
    public var count: Int { rows * cols }
    /// The shape as saved: [n] for vectors, [rows, cols] otherwise.
    public var savedShape: [Int] { isVector ? [cols] : [rows, cols] }
}

/// The names, shapes and offsets of a set of parameters, without their values.
///
/// Online and target networks share one layout, so their flat buffers line up
/// element for element (Polyak averaging and weight broadcasts are then single
/// vector operations).
public struct ParameterLayout: Sendable, Equatable {
    public private(set) var slots: [ParameterSlot] = []
    /// Scalars in the flat buffer, including alignment padding.
    public private(set) var scalarCount = 0
    private var indexByName: [String: Int] = [:]

    public init() {}

    /// Number of actual parameters (padding excluded).
    public var parameterCount: Int { slots.reduce(0) { $0 + $1.count } }

    /// Appends a parameter of shape [rows, cols]; names must be unique.
    ///
    /// Each slot starts on a 16-scalar (64-byte) boundary so SIMD kernels see
    /// aligned rows.
    public mutating func add(_ name: String, rows: Int, cols: Int) -> ParameterSlot {
        add(name, rows: rows, cols: cols, isVector: false)
    }

    /// Appends a 1-D parameter of `count` elements, held as [1, count].
    public mutating func add(_ name: String, count: Int) -> ParameterSlot {
        add(name, rows: 1, cols: count, isVector: true)
    }

    private mutating func add(_ name: String, rows: Int, cols: Int, isVector: Bool) -> ParameterSlot {
        precondition(indexByName[name] == nil, "duplicate parameter name \(name)")
        precondition(rows > 0 && cols > 0, "parameter \(name) has empty shape [\(rows), \(cols)]")
        let slot = ParameterSlot(index: slots.count, name: name, offset: scalarCount, rows: rows, cols: cols,
                                 isVector: isVector)
        slots.append(slot)
        indexByName[name] = slot.index
        scalarCount += (slot.count + 15) / 16 * 16
        return slot
    }

    /// The slot called `name`.
    public func slot(named name: String) -> ParameterSlot? { indexByName[name].map { slots[$0] } }
}

/// All parameters of a model in one contiguous buffer, with a gradient buffer of the same layout.
///
/// Modules hold `ParameterSlot`s, not tensors, and read their weights from the
/// store passed to `forward`, so one module definition runs on the online
/// store and on the target store alike. The optimizer, gradient clipping and
/// Polyak averaging each run over the whole flat buffer at once.
public final class ParameterStore<Scalar: TensorScalar> {
    public let layout: ParameterLayout
    /// Every parameter, [1, layout.scalarCount]; padding stays zero.
    public let values: Tensor<Scalar>
    /// Gradients in the same layout; backward passes accumulate into it.
    public let gradients: Tensor<Scalar>

    public init(layout: ParameterLayout) {
        self.layout = layout
        values = Tensor(zeros: 1, layout.scalarCount)
        gradients = Tensor(zeros: 1, layout.scalarCount)
    }

    /// The values of `slot`, a view into the flat buffer.
    public func value(_ slot: ParameterSlot) -> Tensor<Scalar> {
        Tensor(storage: values.storage, offset: values.offset + slot.offset, rows: slot.rows, cols: slot.cols)
    }

    /// The gradient of `slot`, a view into the flat gradient buffer.
    public func gradient(_ slot: ParameterSlot) -> Tensor<Scalar> {
        Tensor(storage: gradients.storage, offset: gradients.offset + slot.offset, rows: slot.rows, cols: slot.cols)
    }

    /// `slot` as a tape variable whose gradient accumulates into this store.
    public func variable(_ slot: ParameterSlot, on tape: Tape<Scalar>) -> Variable<Scalar> {
        tape.isRecording ? tape.parameter(value(slot), gradient: gradient(slot)) : tape.constant(value(slot))
    }

    /// Sets every gradient to zero (before each backward pass).
    public func zeroGradients() { gradients.fill(0) }

    /// Copies all values from a store with the same layout (e.g. target <- online at start).
    public func copyValues(from other: ParameterStore<Scalar>) {
        precondition(other.layout == layout, "copyValues: layouts differ")
        values.assign(other.values)
    }

    /// Polyak averaging: self <- tau * online + (1 - tau) * self.
    public func polyakUpdate(toward online: ParameterStore<Scalar>, tau: Double) {
        precondition(online.layout == layout, "polyakUpdate: layouts differ")
        Kernels.lerp(values, toward: online.values, tau: Scalar(tau))
    }

    /// The global L2 norm of the gradients.
    public func gradientNorm() -> Double { Kernels.sumOfSquares(gradients).squareRoot() }

    /// Scales the gradients so their global L2 norm is at most `maxNorm`; returns the norm before clipping.
    ///
    /// As PyTorch's `clip_grad_norm_`: the factor is maxNorm / (norm + 1e-6),
    /// applied only when below 1. A non-finite norm leaves the gradients as
    /// they are; the caller should then skip the optimizer step.
    @discardableResult
    public func clipGradientNorm(maxNorm: Double) -> Double {
        let norm = gradientNorm()
        guard norm.isFinite else { return norm }
        let factor = maxNorm / (norm + 1e-6)
        if factor < 1 { Kernels.scale(gradients, by: Scalar(factor)) }
        return norm
    }
}
