/// Every backward rule, one case per operation: this is the one table of derivatives.
///
/// Each rule adds the gradient of the loss with respect to each input that
/// needs one, given the output value `y` and its gradient `g`. Inputs that
/// were broadcast receive `g` summed over the broadcast dimensions.
///
/// Where a fused SIMD kernel in Tensor computes a derivative (unary functions, minimum,
/// LayerNorm, Swish), the case states the formula and names the kernel; those kernels are
/// named `…Backward` and compute exactly the formula written here, nothing else.
extension Tape {
    func propagate(_ operation: Operation<Scalar>, output y: Tensor<Scalar>, gradient g: Tensor<Scalar>) {
        switch operation {
        case .leaf:
            break

        case let .linear(x, w, b):  // y = x W^T + b
            if let (dx, fresh) = gradientTarget(x) {                                           // dx += g W
                let width = leadingColumnsNeedingGradient(x)
                if width == x.cols {
                    gemm(g, w.value, into: dx, beta: fresh ? 0 : 1)
                } else {
                    if fresh { dx.fill(0) }
                    // Only the leading columns flow on (a coupling's [m ⊙ z ; s]: s is an input).
                    let part = scratch(x.rows, width), weights = scratch(w.rows, width)
                    Kernels.copyColumns(w.value, from: 0, into: weights, at: 0, width: width)
                    gemm(g, weights, into: part)
                    Kernels.copyColumns(part, from: 0, into: dx, at: 0, width: width, accumulate: true)
                }
            }
            if let dw = gradientBuffer(w) { gemm(g, x.value, transposeA: true, into: dw, beta: 1) }  // dW += g^T x
            if let b, let db = gradientBuffer(b) { Kernels.accumulate(g, into: db.reshaped(1, g.cols)) }  // db += sum_rows g

        case let .matmul(a, b, ta, tb):  // y = op(a) op(b)
            if let da = gradientBuffer(a) {
                if ta { gemm(b.value, g, transposeA: tb, transposeB: true, into: da, beta: 1) }  // op(b) g^T
                else { gemm(g, b.value, transposeB: !tb, into: da, beta: 1) }                  // g op(b)^T
            }
            if let db = gradientBuffer(b) {
                if tb { gemm(g, a.value, transposeA: true, transposeB: ta, into: db, beta: 1) }  // g^T op(a)
                else { gemm(a.value, g, transposeA: !ta, into: db, beta: 1) }                  // op(a)^T g
            }

        case let .layerNorm(x, gamma, beta, stats):
            // y = γ ⊙ x̂ + β with x̂ = (x − μ)·r, r = 1/√(σ² + ε), per row of n features (stats holds μ, r).
            // dx = r·(γ⊙g − mean(γ⊙g) − x̂·mean(γ⊙g⊙x̂)), dγ += Σ_rows g⊙x̂, dβ += Σ_rows g.
            // Kernel: Kernels.layerNormBackward (Tensor/NormKernels.swift).
            let dx = gradientTarget(x)
            Kernels.layerNormBackward(x: x.value, gamma: gamma.value, stats: stats, dy: g, dx: dx?.buffer,
                                      dgamma: gradientBuffer(gamma), dbeta: gradientBuffer(beta),
                                      overwriteDX: dx?.fresh == true)

        case let .swish(x, beta, sigmoid):  // y = x s, s = sigmoid(beta x)
            // dx = g (s + β x s (1 − s)), dβ += Σ_rows g x² s (1 − s).
            // Kernel: Kernels.swishBackward (Tensor/NormKernels.swift).
            let dx = gradientTarget(x)
            Kernels.swishBackward(x: x.value, beta: beta.value, sigmoid: sigmoid, dy: g, dx: dx?.buffer,
                                  dbeta: gradientBuffer(beta), overwriteDX: dx?.fresh == true)

        case let .unary(f, x):  // dx += g f'(x), f' from x or y
            // exp: f' = y; log: 1/x; tanh: 1 − y²; sigmoid: y (1 − y); atanh: 1/(1 − x²); square: 2x;
            // negate: −1; affine(a, b): a; clamp(lo, hi): 1 inside [lo, hi], 0 outside.
            // Kernel: Kernels.unaryBackward, per chunk Kernels.unaryBackwardChunk (Tensor/Kernels.swift).
            if let dx = gradientBuffer(x) { Kernels.unaryBackward(f, x: x.value, y: y, dy: g, accumulateInto: dx) }

        case let .binary(op, a, b):
            switch op {
            case .add:
                accumulate(g, into: a)
                accumulate(g, into: b)
            case .subtract:
                accumulate(g, into: a)
                accumulate(g, scale: -1, into: b)
            case .multiply:
                accumulate(.multiply, g, b.value, into: a)  // da += g b
                accumulate(.multiply, g, a.value, into: b)  // db += g a
            case .divide:
                accumulate(.divide, g, b.value, into: a)  // da += g / b
                if b.requiresGradient {                   // db -= g y / b
                    let t = scratch(y.rows, y.cols)
                    Kernels.binary(.multiply, g, y, into: t)
                    Kernels.binary(.divide, t, b.value, into: t)
                    accumulate(t, scale: -1, into: b)
                }
            case .minimum, .maximum:
                preconditionFailure("\(op) is recorded as its own operation")
            }

        case let .minimum(a, b):  // the gradient goes to the smaller input (a on ties)
            // da += g·[a ≤ b], db += g·[a > b]. Kernel: Kernels.minimumBackward (Tensor/Kernels.swift).
            Kernels.minimumBackward(a: a.value, b: b.value, dy: g, da: gradientBuffer(a), db: gradientBuffer(b))

        case let .reduce(x, scale):  // dx += scale * g broadcast back
            accumulate(g, scale: scale, into: x)

        case let .concatColumns(parts):
            var column = 0
            for part in parts {
                if let dp = gradientBuffer(part) {
                    Kernels.copyColumns(g, from: column, into: dp, at: 0, width: part.cols, accumulate: true)
                }
                column += part.cols
            }

        case let .columns(x, start):
            if let dx = gradientBuffer(x) { Kernels.copyColumns(g, from: 0, into: dx, at: start, width: g.cols, accumulate: true) }

        case let .dropout(x, mask):  // dx += g mask
            if let (dx, fresh) = gradientTarget(x) { Kernels.binary(.multiply, g, mask, into: dx, accumulate: !fresh) }
        }
    }
}
