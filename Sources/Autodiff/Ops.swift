/// The forward half of every primitive. Backward rules are in Backward.swift.
extension Tape {
    // MARK: - Linear algebra

    /// y = x W^T + b (PyTorch's nn.Linear layout: W is [out, in], b is [1, out]).
    public func linear(_ x: Variable<Scalar>, weight: Variable<Scalar>, bias: Variable<Scalar>?) -> Variable<Scalar> {
        precondition(x.cols == weight.cols, "linear: input \(x.shape) for weight \(weight.shape)")
        let y = output(x.rows, weight.rows)
        if let bias {
            precondition(bias.value.count == weight.rows, "linear: bias \(bias.shape) for weight \(weight.shape)")
            // Broadcast the bias into y, then accumulate the product on top (beta = 1).
            Kernels.broadcastRow(bias.value, into: y)
            gemm(x.value, weight.value, transposeB: true, into: y, beta: 1)
        } else {
            gemm(x.value, weight.value, transposeB: true, into: y)
        }
        return record(y, .linear(x: x, weight: weight, bias: bias), inputs: x, weight, bias)
    }

    /// y = op(a) op(b), where op transposes when asked.
    public func matmul(_ a: Variable<Scalar>, _ b: Variable<Scalar>, transposeA: Bool = false,
                       transposeB: Bool = false) -> Variable<Scalar> {
        let y = output(transposeA ? a.cols : a.rows, transposeB ? b.rows : b.cols)
        gemm(a.value, b.value, transposeA: transposeA, transposeB: transposeB, into: y)
        return record(y, .matmul(a: a, b: b, transposeA: transposeA, transposeB: transposeB), inputs: a, b)
    }

    // MARK: - Normalisation and activations

    /// Layer normalisation over each row with affine gamma, beta ([1, cols]).
    public func layerNorm(_ x: Variable<Scalar>, gamma: Variable<Scalar>, beta: Variable<Scalar>,
                          epsilon: Scalar = 1e-5) -> Variable<Scalar> {
        let y = output(x.rows, x.cols)
        let stats = output(x.rows, 2)
        Kernels.layerNorm(x.value, gamma: gamma.value, beta: beta.value, epsilon: epsilon, into: y, stats: stats)
        return record(y, .layerNorm(x: x, gamma: gamma, beta: beta, stats: stats), inputs: x, gamma, beta)
    }

    /// Swish with a learnable slope per column: x * sigmoid(beta * x), beta [1, cols].
    public func swish(_ x: Variable<Scalar>, beta: Variable<Scalar>) -> Variable<Scalar> {
        let y = output(x.rows, x.cols)
        // Recording tapes keep sigmoid(beta x) for the backward rule.
        let needsGradient = isRecording && (x.requiresGradient || beta.requiresGradient)
        let sigmoid = needsGradient ? output(x.rows, x.cols) : nil
        Kernels.swish(x.value, beta: beta.value, into: y, sigmoid: sigmoid)
        return record(y, .swish(x: x, beta: beta, sigmoid: sigmoid), inputs: x, beta)
    }

    /// Applies an element-wise function.
    public func map(_ f: UnaryFunction, _ x: Variable<Scalar>) -> Variable<Scalar> {
        let y = output(x.rows, x.cols)
        Kernels.map(f, x.value, into: y)
        return record(y, .unary(f, x: x), inputs: x)
    }

    public func exp(_ x: Variable<Scalar>) -> Variable<Scalar> { map(.exp, x) }
    /// Natural log; nan for negative inputs, -inf at 0 (as the C library).
    public func log(_ x: Variable<Scalar>) -> Variable<Scalar> { map(.log, x) }
    public func tanh(_ x: Variable<Scalar>) -> Variable<Scalar> { map(.tanh, x) }
    /// Inverse tanh; the caller keeps |x| < 1 (e.g. with `clamp`).
    public func atanh(_ x: Variable<Scalar>) -> Variable<Scalar> { map(.atanh, x) }
    public func sigmoid(_ x: Variable<Scalar>) -> Variable<Scalar> { map(.sigmoid, x) }
    public func square(_ x: Variable<Scalar>) -> Variable<Scalar> { map(.square, x) }
    public func negate(_ x: Variable<Scalar>) -> Variable<Scalar> { map(.negate, x) }
    /// x * factor.
    public func scale(_ x: Variable<Scalar>, by factor: Double) -> Variable<Scalar> {
        map(.affine(scale: factor, shift: 0), x)
    }
    /// x + constant.
    public func add(_ x: Variable<Scalar>, constant: Double) -> Variable<Scalar> {
        map(.affine(scale: 1, shift: constant), x)
    }
    /// x * factor + shift.
    public func affine(_ x: Variable<Scalar>, scale factor: Double, shift: Double) -> Variable<Scalar> {
        map(.affine(scale: factor, shift: shift), x)
    }

    /// min(max(x, lower), upper). The gradient is 1 inside [lower, upper] and 0
    /// outside, as for PyTorch's `clamp` (a "clamp to constant": clamped
    /// elements are treated as constants).
    public func clamp(_ x: Variable<Scalar>, lower: Double, upper: Double) -> Variable<Scalar> {
        map(.clamp(lower: lower, upper: upper), x)
    }

    // MARK: - Binary with broadcasting

    /// a op b, broadcasting operands of shape [1, n], [n, 1] or [1, 1].
    public func binary(_ op: BinaryOperator, _ a: Variable<Scalar>, _ b: Variable<Scalar>) -> Variable<Scalar> {
        guard let (rows, cols) = Kernels.broadcastShape((a.rows, a.cols), (b.rows, b.cols)) else {
            preconditionFailure("\(op): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        let y = output(rows, cols)
        Kernels.binary(op, a.value, b.value, into: y)
        if op == .minimum { return record(y, .minimum(a: a, b: b), inputs: a, b) }
        return record(y, .binary(op, a: a, b: b), inputs: a, b)
    }

    public func add(_ a: Variable<Scalar>, _ b: Variable<Scalar>) -> Variable<Scalar> { binary(.add, a, b) }
    public func subtract(_ a: Variable<Scalar>, _ b: Variable<Scalar>) -> Variable<Scalar> { binary(.subtract, a, b) }
    public func multiply(_ a: Variable<Scalar>, _ b: Variable<Scalar>) -> Variable<Scalar> { binary(.multiply, a, b) }
    public func divide(_ a: Variable<Scalar>, _ b: Variable<Scalar>) -> Variable<Scalar> { binary(.divide, a, b) }

    /// Element-wise minimum of two same-shape values; on ties the gradient goes to `a`.
    public func minimum(_ a: Variable<Scalar>, _ b: Variable<Scalar>) -> Variable<Scalar> {
        precondition(a.shape == b.shape, "minimum: shapes \(a.shape) and \(b.shape) differ")
        return binary(.minimum, a, b)
    }

    /// x times a constant tensor (e.g. a coupling mask), broadcast like `multiply`.
    public func multiply(_ x: Variable<Scalar>, mask: Tensor<Scalar>) -> Variable<Scalar> {
        binary(.multiply, x, constant(mask))
    }

    // MARK: - Reductions

    /// Sums x down to [rows, cols] (each 1 or x's size), times `scale`.
    func reduce(_ x: Variable<Scalar>, rows: Int, cols: Int, scale: Scalar) -> Variable<Scalar> {
        let y = output(rows, cols)
        y.fill(0)
        Kernels.accumulate(x.value, scale: scale, into: y)
        return record(y, .reduce(x: x, scale: scale), inputs: x)
    }

    /// Sum of each row: [B, n] -> [B, 1].
    public func rowSum(_ x: Variable<Scalar>) -> Variable<Scalar> { reduce(x, rows: x.rows, cols: 1, scale: 1) }
    /// Mean of each row: [B, n] -> [B, 1].
    public func rowMean(_ x: Variable<Scalar>) -> Variable<Scalar> {
        reduce(x, rows: x.rows, cols: 1, scale: 1 / Scalar(x.cols))
    }
    /// Sum of each column: [B, n] -> [1, n].
    public func columnSum(_ x: Variable<Scalar>) -> Variable<Scalar> { reduce(x, rows: 1, cols: x.cols, scale: 1) }
    /// Mean of each column: [B, n] -> [1, n].
    public func columnMean(_ x: Variable<Scalar>) -> Variable<Scalar> {
        reduce(x, rows: 1, cols: x.cols, scale: 1 / Scalar(x.rows))
    }
    /// Sum of all elements: [1, 1].
    public func sum(_ x: Variable<Scalar>) -> Variable<Scalar> { reduce(x, rows: 1, cols: 1, scale: 1) }
    /// Mean of all elements: [1, 1].
    public func mean(_ x: Variable<Scalar>) -> Variable<Scalar> {
        reduce(x, rows: 1, cols: 1, scale: 1 / Scalar(x.value.count))
    }

    // MARK: - Columns

    /// Concatenates along features: [B, n1], [B, n2], ... -> [B, n1 + n2 + ...].
    public func concatColumns(_ parts: [Variable<Scalar>]) -> Variable<Scalar> {
        precondition(!parts.isEmpty && parts.allSatisfy { $0.rows == parts[0].rows }, "concatColumns: row counts differ")
        let y = output(parts[0].rows, parts.reduce(0) { $0 + $1.cols })
        var column = 0
        for part in parts {
            Kernels.copyColumns(part.value, from: 0, into: y, at: column, width: part.cols)
            column += part.cols
        }
        return record(y, .concatColumns(parts), inputList: parts)
    }

    /// Columns `range` of x: [B, n] -> [B, range.count].
    public func columns(_ x: Variable<Scalar>, _ range: Range<Int>) -> Variable<Scalar> {
        precondition(range.lowerBound >= 0 && range.upperBound <= x.cols, "columns \(range) of \(x.shape)")
        let y = output(x.rows, range.count)
        Kernels.copyColumns(x.value, from: range.lowerBound, into: y, at: 0, width: range.count)
        return record(y, .columns(x: x, start: range.lowerBound), inputs: x)
    }

    /// Splits along features into parts of the given widths (which sum to x.cols).
    public func splitColumns(_ x: Variable<Scalar>, sizes: [Int]) -> [Variable<Scalar>] {
        precondition(sizes.reduce(0, +) == x.cols, "splitColumns: sizes \(sizes) for \(x.shape)")
        var start = 0
        return sizes.map { width in
            defer { start += width }
            return columns(x, start..<(start + width))
        }
    }

    // MARK: - Dropout

    /// Inverted dropout: zeroes each element with probability p and scales the
    /// rest by 1/(1-p); the mask is drawn from `rng`. p == 0 is the identity and
    /// draws nothing.
    public func dropout(_ x: Variable<Scalar>, probability p: Double, rng: inout Xoshiro256) -> Variable<Scalar> {
        guard p > 0 else { return x }
        let mask = output(x.rows, x.cols)
        Kernels.fillDropoutMask(mask, dropProbability: p, rng: &rng)
        let y = output(x.rows, x.cols)
        Kernels.binary(.multiply, x.value, mask, into: y)
        return record(y, .dropout(x: x, mask: mask), inputs: x)
    }
}
