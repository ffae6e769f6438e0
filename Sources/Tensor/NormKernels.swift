extension Kernels {
    // MARK: - LayerNorm

    /// y = (x - mean) / sqrt(var + eps) * gamma + beta per row; stats[r] = (mean, 1/sqrt(var + eps)).
    ///
    /// `gamma` and `beta` are [1, cols]; `stats` is [rows, 2] and feeds the backward.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func layerNorm<S: TensorScalar>(_ x: Tensor<S>, gamma: Tensor<S>, beta: Tensor<S>, epsilon: S,
                                                  into y: Tensor<S>, stats: Tensor<S>) {
        precondition(y.hasShape(x.rows, x.cols) && gamma.count == x.cols && beta.count == x.cols
                     && stats.hasShape(x.rows, 2), "layerNorm shapes")
        let n = x.cols, px = UnsafePointer(pointer(x)), py = pointer(y), ps = pointer(stats)
        let pg = UnsafePointer(pointer(gamma)), pb = UnsafePointer(pointer(beta))
        for r in 0..<x.rows {
            let xr = px + r &* n, yr = py + r &* n
            let mean = rowSum(xr, n) / S(n)
            let mv = SIMD16<S>(repeating: mean)
            var acc = SIMD16<S>()
            var j = 0
            while j < n {
                let w = Swift.min(16, n &- j)
                // NOTE: two passes (mean, then squared deviations) instead of
                // E[x^2] - E[x]^2, which cancels catastrophically for large means.
                var d = ld(xr + j, w) - mv
                if w < 16 { d.replace(with: 0, where: SIMD16<S>.laneMask(w)) }
                acc += d * d
                j &+= 16
            }
            let rstd = 1 / (acc.sum() / S(n) + epsilon).squareRoot()
            ps[2 &* r] = mean
            ps[2 &* r &+ 1] = rstd
            let rv = SIMD16<S>(repeating: rstd)
            j = 0
            while j < n {
                let w = Swift.min(16, n &- j)
                st((ld(xr + j, w) - mv) * rv * ld(pg + j, w) + ld(pb + j, w), yr + j, w)
                j &+= 16
            }
        }
    }

    /// Accumulates the LayerNorm gradients dx, dgamma, dbeta from dy; `overwriteDX` assigns dx instead
    /// (a buffer nothing was accumulated into yet, which then needs no zero-fill).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func layerNormBackward<S: TensorScalar>(x: Tensor<S>, gamma: Tensor<S>, stats: Tensor<S>,
                                                          dy: Tensor<S>, dx: Tensor<S>?, dgamma: Tensor<S>?,
                                                          dbeta: Tensor<S>?, overwriteDX: Bool = false) {
        let n = x.cols, px = UnsafePointer(pointer(x)), pdy = UnsafePointer(pointer(dy))
        let pg = UnsafePointer(pointer(gamma)), ps = UnsafePointer(pointer(stats))
        let pdx = dx.map(pointer), pdgamma = dgamma.map(pointer), pdbeta = dbeta.map(pointer)
        for r in 0..<x.rows {
            let xr = px + r &* n, gr = pdy + r &* n
            let mv = SIMD16<S>(repeating: ps[2 &* r]), rv = SIMD16<S>(repeating: ps[2 &* r &+ 1])
            var sumG = SIMD16<S>(), sumGX = SIMD16<S>()
            var j = 0
            while j < n {
                let w = Swift.min(16, n &- j)
                let xhat = (ld(xr + j, w) - mv) * rv
                let dyv = ld(gr + j, w)
                let g = dyv * ld(pg + j, w)
                sumG += g
                sumGX += g * xhat
                if let p = pdgamma { st(ld(p + j, w) + dyv * xhat, p + j, w) }
                if let p = pdbeta { st(ld(p + j, w) + dyv, p + j, w) }
                j &+= 16
            }
            guard let pdx else { continue }
            let meanG = SIMD16<S>(repeating: sumG.sum() / S(n)), meanGX = SIMD16<S>(repeating: sumGX.sum() / S(n))
            let dxr = pdx + r &* n
            j = 0
            while j < n {
                let w = Swift.min(16, n &- j)
                let xhat = (ld(xr + j, w) - mv) * rv
                let g = ld(gr + j, w) * ld(pg + j, w)
                let v = rv * (g - meanG - xhat * meanGX)
                st(overwriteDX ? v : ld(dxr + j, w) + v, dxr + j, w)
                j &+= 16
            }
        }
    }

    // MARK: - Swish

    /// y = x * sigmoid(beta * x) with one beta per column ([1, cols]).
    ///
    /// When `sigmoid` is given, sigmoid(beta * x) is stored there for the
    /// backward pass, which then needs no exponentials.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func swish<S: TensorScalar>(_ x: Tensor<S>, beta: Tensor<S>, into y: Tensor<S>,
                                              sigmoid: Tensor<S>? = nil) {
        precondition(y.count == x.count && beta.count == x.cols && (sigmoid?.count ?? x.count) == x.count,
                     "swish shapes")
        let n = x.cols, px = UnsafePointer(pointer(x)), py = pointer(y), pb = UnsafePointer(pointer(beta))
        let psig = sigmoid.map(pointer)
        for r in 0..<x.rows {
            let xr = px + r &* n, yr = py + r &* n
            var j = 0
            while j < n {
                let w = Swift.min(16, n &- j)
                let v = ld(xr + j, w)
                let s = S.vectorSigmoid(ld(pb + j, w) * v)
                st(v * s, yr + j, w)
                if let psig { st(s, psig + (r &* n &+ j), w) }
                j &+= 16
            }
        }
    }

    /// Accumulates Swish gradients: dx += dy (s + b x s (1 - s)), dbeta += sum_rows dy x^2 s (1 - s);
    /// `overwriteDX` assigns dx instead (a buffer nothing was accumulated into yet).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func swishBackward<S: TensorScalar>(x: Tensor<S>, beta: Tensor<S>, sigmoid: Tensor<S>? = nil,
                                                      dy: Tensor<S>, dx: Tensor<S>?, dbeta: Tensor<S>?,
                                                      overwriteDX: Bool = false) {
        let n = x.cols, px = UnsafePointer(pointer(x)), pdy = UnsafePointer(pointer(dy))
        let psig = sigmoid.map { UnsafePointer(pointer($0)) }
        let pb = UnsafePointer(pointer(beta)), pdx = dx.map(pointer), pdbeta = dbeta.map(pointer)
        for r in 0..<x.rows {
            let xr = px + r &* n, gr = pdy + r &* n
            var j = 0
            while j < n {
                let w = Swift.min(16, n &- j)
                let v = ld(xr + j, w), b = ld(pb + j, w), g = ld(gr + j, w)
                let s = psig.map { ld($0 + (r &* n &+ j), w) } ?? S.vectorSigmoid(b * v)
                let ds = s * (1 - s)
                if let p = pdx {
                    let q = p + (r &* n &+ j), d = g * (s + b * v * ds)
                    st(overwriteDX ? d : ld(q, w) + d, q, w)
                }
                if let p = pdbeta { st(ld(p + j, w) + g * v * v * ds, p + j, w) }
                j &+= 16
            }
        }
    }
}

extension SIMD16 where Scalar: TensorScalar {
    /// Lanes at or beyond `width` (for masking partial chunks).
    @inline(__always)
    static func laneMask(_ width: Int) -> SIMDMask<SIMD16<Scalar.SIMDMaskScalar>> {
        var m = SIMDMask<SIMD16<Scalar.SIMDMaskScalar>>()
        for i in width..<16 { m[i] = true }
        return m
    }
}
