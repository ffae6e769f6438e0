@_exported import Tensor

/// A value on a tape: a tensor plus the node that produced it (if any).
///
/// Variables without a node are constants: inputs that need no gradient, or
/// every value computed by an inference-mode tape.
public struct Variable<Scalar: TensorScalar> {
    public let value: Tensor<Scalar>
    /// Index of the producing node on its tape; -1 for constants.
    let node: Int

    init(_ value: Tensor<Scalar>, node: Int) {
        self.value = value
        self.node = node
    }

    public var rows: Int { value.rows }
    public var cols: Int { value.cols }
    public var shape: [Int] { value.shape }
    /// True when gradients flow back through this value.
    public var requiresGradient: Bool { node >= 0 }
}

/// One recorded operation: its inputs and anything the backward rule needs.
///
/// The backward rules for every case live in Backward.swift.
enum Operation<Scalar: TensorScalar> {
    /// A parameter or input; its gradient is accumulated, never propagated.
    case leaf
    /// y = x W^T + b.
    case linear(x: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>?)
    /// y = op(a) op(b).
    case matmul(a: Variable<Scalar>, b: Variable<Scalar>, transposeA: Bool, transposeB: Bool)
    case layerNorm(x: Variable<Scalar>, gamma: Variable<Scalar>, beta: Variable<Scalar>, stats: Tensor<Scalar>)
    case swish(x: Variable<Scalar>, beta: Variable<Scalar>, sigmoid: Tensor<Scalar>?)
    case unary(UnaryFunction, x: Variable<Scalar>)
    case binary(BinaryOperator, a: Variable<Scalar>, b: Variable<Scalar>)
    case minimum(a: Variable<Scalar>, b: Variable<Scalar>)
    /// A sum over broadcast dimensions (rows, columns or both), times `scale`.
    case reduce(x: Variable<Scalar>, scale: Scalar)
    case concatColumns([Variable<Scalar>])
    case columns(x: Variable<Scalar>, start: Int)
    case dropout(x: Variable<Scalar>, mask: Tensor<Scalar>)
}

struct Node<Scalar: TensorScalar> {
    var operation: Operation<Scalar>
    var value: Tensor<Scalar>
    var gradient: Tensor<Scalar>?
}

/// A reverse-mode tape: records operations, then runs their backward rules in reverse.
///
/// There is no global state: every forward pass takes its tape explicitly. An
/// inference tape (`recording: false`, for target networks and acting) records
/// nothing, and every value it returns is a constant.
///
/// The tape owns a workspace of buffers that `reset()` recycles: an update
/// that runs the same operations each step allocates nothing after the first.
/// Values and gradients returned by a tape are views into that workspace, so
/// they are only valid until the next `reset()`; `copy()` what must outlive it.
public final class Tape<Scalar: TensorScalar> {
    /// False for an inference tape.
    public let isRecording: Bool
    var nodes: [Node<Scalar>] = []
    let workspace = Workspace<Scalar>()
    /// GEMM FLOPs (2·m·n·k per product) run by this tape's forward and backward since the last `reset()`.
    ///
    /// What `meow-bench meow` divides by the sgemm rate to get an update's floor (docs/benchmarks.md).
    public private(set) var gemmFLOPs = 0

    public init(recording: Bool = true) {
        self.isRecording = recording
    }

    /// Forgets every node and recycles the workspace.
    public func reset() {
        nodes.removeAll(keepingCapacity: true)
        workspace.reset()
        gemmFLOPs = 0
    }

    /// Number of recorded nodes.
    public var nodeCount: Int { nodes.count }

    /// A value that needs no gradient.
    public func constant(_ value: Tensor<Scalar>) -> Variable<Scalar> { Variable(value, node: -1) }

    /// A trainable value whose gradient accumulates into `gradient` (same shape).
    ///
    /// Pass views of a flat gradient buffer so every parameter's gradient lands
    /// in one contiguous array (NN's ParameterStore). With `gradient: nil` the
    /// gradient is kept on the tape; read it with `gradient(of:)`.
    public func parameter(_ value: Tensor<Scalar>, gradient: Tensor<Scalar>? = nil) -> Variable<Scalar> {
        guard isRecording else { return constant(value) }
        if let gradient {
            precondition(gradient.count == value.count, "gradient \(gradient.shape) for parameter \(value.shape)")
        }
        nodes.append(Node(operation: .leaf, value: value, gradient: gradient))
        return Variable(value, node: nodes.count - 1)
    }

    /// The gradient accumulated for `variable`, if any reached it.
    public func gradient(of variable: Variable<Scalar>) -> Tensor<Scalar>? {
        variable.node >= 0 ? nodes[variable.node].gradient : nil
    }

    /// Backpropagates from `output`, seeding its gradient with `seed` in every element.
    ///
    /// Gradients accumulate: call `reset()` (and zero parameter gradient buffers)
    /// between updates.
    public func backward(from output: Variable<Scalar>, seed: Scalar = 1) {
        backward(from: output, gradient: Tensor(repeating: seed, rows: 1, cols: 1))
    }

    /// Backpropagates with an explicit output gradient (`output`'s shape, or [1, 1] to seed every element).
    public func backward(from output: Variable<Scalar>, gradient seed: Tensor<Scalar>) {
        precondition(isRecording, "backward on an inference tape")
        guard output.node >= 0 else { return }
        Kernels.accumulate(seed, into: gradientBuffer(output.node))
        for id in stride(from: output.node, through: 0, by: -1) {
            guard let g = nodes[id].gradient else { continue }
            propagate(nodes[id].operation, output: nodes[id].value, gradient: g)
        }
    }

    // MARK: - Helpers for operations and backward rules

    /// The gradient buffer of node `id`, created zero-filled on first use.
    func gradientBuffer(_ id: Int) -> Tensor<Scalar> {
        if let g = nodes[id].gradient { return g }
        let value = nodes[id].value
        let g = workspace.tensor(value.rows, value.cols, zeroed: true)
        nodes[id].gradient = g
        return g
    }

    /// The gradient buffer of `v` for a rule that can assign, or nil when `v` needs none.
    ///
    /// `fresh` is true when the buffer was created by this call and holds garbage: the rule then
    /// writes its result instead of adding it, which saves zero-filling the buffer first (most
    /// activations have exactly one consumer, so this is the common case).
    func gradientTarget(_ v: Variable<Scalar>) -> (buffer: Tensor<Scalar>, fresh: Bool)? {
        guard v.node >= 0 else { return nil }
        if let g = nodes[v.node].gradient { return (g, false) }
        let value = nodes[v.node].value
        let g = workspace.tensor(value.rows, value.cols, zeroed: false)
        nodes[v.node].gradient = g
        return (g, true)
    }

    /// The gradient buffer of `v`, or nil when `v` needs none.
    func gradientBuffer(_ v: Variable<Scalar>) -> Tensor<Scalar>? {
        v.node >= 0 ? gradientBuffer(v.node) : nil
    }

    /// `GEMM.multiply`, counted in `gemmFLOPs`.
    func gemm(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>, transposeA: Bool = false, transposeB: Bool = false,
                  into c: Tensor<Scalar>, beta: Scalar = 0) {
        gemmFLOPs += 2 * c.rows * c.cols * (transposeA ? a.rows : a.cols)
        GEMM.multiply(a, b, transposeA: transposeA, transposeB: transposeB, into: c, beta: beta)
    }

    /// How many leading columns of `v` some input needs a gradient for: all of them, except for a
    /// concatenation whose trailing parts are constants (their gradient columns would be discarded).
    func leadingColumnsNeedingGradient(_ v: Variable<Scalar>) -> Int {
        guard v.node >= 0, case let .concatColumns(parts) = nodes[v.node].operation else { return v.cols }
        var width = 0, column = 0
        for part in parts {
            column += part.cols
            if part.requiresGradient { width = column }
        }
        return width
    }

    /// A fresh output buffer (contents unspecified).
    func output(_ rows: Int, _ cols: Int) -> Tensor<Scalar> { workspace.tensor(rows, cols, zeroed: false) }

    /// A zero-filled scratch buffer for backward rules.
    func scratch(_ rows: Int, _ cols: Int) -> Tensor<Scalar> { workspace.tensor(rows, cols, zeroed: true) }

    /// Records `operation` when any input needs a gradient; otherwise returns a constant.
    ///
    /// Up to three inputs as separate arguments rather than a variadic list, which would allocate an
    /// array on every operation of an inference tape too (acting at batch 1 is that small).
    func record(_ value: Tensor<Scalar>, _ operation: @autoclosure () -> Operation<Scalar>,
                inputs a: Variable<Scalar>?, _ b: Variable<Scalar>? = nil, _ c: Variable<Scalar>? = nil)
        -> Variable<Scalar> {
        guard isRecording,
              a?.requiresGradient == true || b?.requiresGradient == true || c?.requiresGradient == true
        else { return constant(value) }
        nodes.append(Node(operation: operation(), value: value, gradient: nil))
        return Variable(value, node: nodes.count - 1)
    }

    /// Records `operation` when any of `inputs` needs a gradient.
    func record(_ value: Tensor<Scalar>, _ operation: @autoclosure () -> Operation<Scalar>,
                inputList: [Variable<Scalar>]) -> Variable<Scalar> {
        guard isRecording, inputList.contains(where: { $0.requiresGradient }) else { return constant(value) }
        nodes.append(Node(operation: operation(), value: value, gradient: nil))
        return Variable(value, node: nodes.count - 1)
    }
}

/// Buffers a tape hands out and recycles.
///
/// A bump allocator over reusable slabs: the k-th request after a reset gets
/// the k-th slab if it is large enough. A training step repeats the same
/// sequence of requests, so after the first step nothing is allocated.
final class Workspace<Scalar: TensorScalar> {
    private var slabs: [TensorStorage<Scalar>] = []
    private var cursor = 0

    func tensor(_ rows: Int, _ cols: Int, zeroed: Bool) -> Tensor<Scalar> {
        let count = rows * cols
        let storage: TensorStorage<Scalar>
        if cursor < slabs.count, slabs[cursor].capacity >= count {
            storage = slabs[cursor]
        } else {
            storage = TensorStorage(capacity: Swift.max(count, 16))
            if cursor < slabs.count { slabs[cursor] = storage } else { slabs.append(storage) }
        }
        cursor += 1
        let t = Tensor(storage: storage, offset: 0, rows: rows, cols: cols)
        if zeroed { t.fill(0) }
        return t
    }

    func reset() { cursor = 0 }
}

extension Tape {
    /// grad(v) += scale * t, summing over v's broadcast dimensions.
    func accumulate(_ t: Tensor<Scalar>, scale: Scalar = 1, into v: Variable<Scalar>) {
        if let dv = gradientBuffer(v) { Kernels.accumulate(t, scale: scale, into: dv) }
    }

    /// grad(v) += x op y, summing over v's broadcast dimensions.
    func accumulate(_ op: BinaryOperator, _ x: Tensor<Scalar>, _ y: Tensor<Scalar>, into v: Variable<Scalar>) {
        guard let dv = gradientBuffer(v) else { return }
        let (rows, cols) = Kernels.broadcastShape((x.rows, x.cols), (y.rows, y.cols))!
        if dv.hasShape(rows, cols) {
            Kernels.binary(op, x, y, into: dv, accumulate: true)
        } else {
            let t = scratch(rows, cols)
            Kernels.binary(op, x, y, into: t)
            Kernels.accumulate(t, into: dv)
        }
    }
}
