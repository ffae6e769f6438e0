/// Kernels over whole flat buffers: the optimizer, gradient clipping, Polyak averaging.
extension Kernels {
    /// One Adam update with bias correction over flat buffers of equal count.
    ///
    /// m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
    /// p <- p - lr * (m / c1) / (sqrt(v / c2) + eps), with c1 = 1 - b1^t, c2 = 1 - b2^t
    /// (PyTorch's formulation, so eps is added after the square root).
    ///
    /// The caller passes b1^t and b2^t (`beta1Power`, `beta2Power`), kept as running products so that
    /// the cost of an update does not grow with t.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func adamStep<S: TensorScalar>(parameters: Tensor<S>, gradients: Tensor<S>, m: Tensor<S>,
                                                 v: Tensor<S>, learningRate: Double, beta1: Double, beta2: Double,
                                                 epsilon: Double, beta1Power: Double, beta2Power: Double) {
        let n = parameters.count
        precondition(gradients.count == n && m.count == n && v.count == n, "adamStep: buffer sizes differ")
        let c1 = 1 - beta1Power, c2 = 1 - beta2Power
        let b1 = S(beta1), b2 = S(beta2), ob1 = S(1 - beta1), ob2 = S(1 - beta2)
        let stepSize = S(learningRate / c1), rc2 = S(1 / c2.squareRoot()), eps = S(epsilon)
        let pp = pointer(parameters), pg = UnsafePointer(pointer(gradients)), pm = pointer(m), pv = pointer(v)
        var i = 0
        while i < n {
            let w = Swift.min(16, n &- i)
            let g = ld(pg + i, w)
            let mv = ld(UnsafePointer(pm + i), w) * b1 + g * ob1
            let vv = ld(UnsafePointer(pv + i), w) * b2 + g * g * ob2
            st(mv, pm + i, w)
            st(vv, pv + i, w)
            let update = stepSize * mv / (vv.squareRoot() * rc2 + eps)
            st(ld(UnsafePointer(pp + i), w) - update, pp + i, w)
            i &+= 16
        }
    }

    /// Sum of squares of all elements, accumulated in Double for a stable norm.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func sumOfSquares<S: TensorScalar>(_ x: Tensor<S>) -> Double {
        let p = UnsafePointer(pointer(x)), n = x.count
        var total = 0.0
        var i = 0
        // Blocks of 1024 in the tensor's precision, then summed in Double.
        while i < n {
            let end = Swift.min(n, i + 1024)
            var acc = SIMD16<S>()
            var j = i
            while j < end {
                let w = Swift.min(16, end &- j)
                let v = ld(p + j, w)
                acc += v * v
                j &+= 16
            }
            total += Double(acc.sum())
            i = end
        }
        return total
    }

    /// x *= factor.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func scale<S: TensorScalar>(_ x: Tensor<S>, by factor: S) {
        let p = pointer(x), n = x.count
        var i = 0
        while i < n {
            let w = Swift.min(16, n &- i)
            st(ld(p + i, w) * factor, p + i, w)
            i &+= 16
        }
    }

    /// target <- tau * source + (1 - tau) * target (Polyak averaging).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func lerp<S: TensorScalar>(_ target: Tensor<S>, toward source: Tensor<S>, tau: S) {
        precondition(target.count == source.count, "lerp: \(target.count) vs \(source.count)")
        let pt = pointer(target), ps = UnsafePointer(pointer(source)), n = target.count
        var i = 0
        while i < n {
            let w = Swift.min(16, n &- i)
            let t = ld(pt + i, w)
            st(t + (ld(ps + i, w) - t) * tau, pt + i, w)
            i &+= 16
        }
    }
}
