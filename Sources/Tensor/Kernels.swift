/// Element-wise functions with a SIMD forward and a derivative.
public enum UnaryFunction: Sendable, Equatable {
    case exp, log, tanh, sigmoid, atanh, square, negate
    /// x * scale + shift.
    case affine(scale: Double, shift: Double)
    /// min(max(x, lower), upper); derivative 1 inside [lower, upper], 0 outside.
    case clamp(lower: Double, upper: Double)
}

/// Element-wise binary operators; operands broadcast as [1,n], [n,1] or [1,1].
public enum BinaryOperator: Sendable, Equatable {
    case add, subtract, multiply, divide, minimum, maximum
}

/// A SIMD function as a type, so each loop over it is specialised separately.
protocol VectorFunction {
    static func apply<S: TensorScalar>(_ x: SIMD16<S>) -> SIMD16<S>
}

enum ExpFunction: VectorFunction {
    @inline(__always) static func apply<S: TensorScalar>(_ x: SIMD16<S>) -> SIMD16<S> { S.vectorExp(x) }
}

enum LogFunction: VectorFunction {
    @inline(__always) static func apply<S: TensorScalar>(_ x: SIMD16<S>) -> SIMD16<S> { S.vectorLog(x) }
}

enum TanhFunction: VectorFunction {
    @inline(__always) static func apply<S: TensorScalar>(_ x: SIMD16<S>) -> SIMD16<S> { S.vectorTanh(x) }
}

enum SigmoidFunction: VectorFunction {
    @inline(__always) static func apply<S: TensorScalar>(_ x: SIMD16<S>) -> SIMD16<S> { S.vectorSigmoid(x) }
}

/// Vectorised element-wise and reduction kernels over tensors.
///
/// Every kernel is pre-specialised for `Float` and `Double`; outputs may alias
/// inputs of the same shape. "Accumulate" kernels add into their output, which
/// is how gradients from several uses of a value sum up.
public enum Kernels {
    // MARK: - SIMD helpers

    @inline(__always)
    static func load<S: TensorScalar>(_ p: UnsafePointer<S>) -> SIMD16<S> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<S>.self)
    }

    @inline(__always)
    static func store<S: TensorScalar>(_ v: SIMD16<S>, _ p: UnsafeMutablePointer<S>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD16<S>.self)
    }

    @inline(__always)
    static func loadPartial<S: TensorScalar>(_ p: UnsafePointer<S>, _ n: Int) -> SIMD16<S> {
        var v = SIMD16<S>()
        for i in 0..<n { v[i] = p[i] }
        return v
    }

    @inline(__always)
    static func storePartial<S: TensorScalar>(_ v: SIMD16<S>, _ p: UnsafeMutablePointer<S>, _ n: Int) {
        for i in 0..<n { p[i] = v[i] }
    }

    @inline(__always)
    static func pointer<S: TensorScalar>(_ t: Tensor<S>) -> UnsafeMutablePointer<S> { t.buffer.baseAddress! }

    @inline(__always)
    static func ld<S: TensorScalar>(_ p: UnsafePointer<S>, _ w: Int) -> SIMD16<S> {
        w == 16 ? load(p) : loadPartial(p, w)
    }

    @inline(__always)
    static func ld<S: TensorScalar>(_ p: UnsafeMutablePointer<S>, _ w: Int) -> SIMD16<S> {
        w == 16 ? load(p) : loadPartial(p, w)
    }

    @inline(__always)
    static func st<S: TensorScalar>(_ v: SIMD16<S>, _ p: UnsafeMutablePointer<S>, _ w: Int) {
        if w == 16 { store(v, p) } else { storePartial(v, p, w) }
    }

    /// The sum of 16 lanes as a tree of halving vector adds: a few instructions, where `sum()`
    /// adds the lanes one after another.
    @inline(__always)
    static func treeSum<S: TensorScalar>(_ v: SIMD16<S>) -> S {
        // The halves are read through memory: `lowHalf`/`highHalf` compile to lane-by-lane extraction.
        var whole = v
        return withUnsafeBytes(of: &whole) { raw in
            let half = 8 &* MemoryLayout<S>.stride
            let eight = raw.loadUnaligned(as: SIMD8<S>.self) + raw.loadUnaligned(fromByteOffset: half, as: SIMD8<S>.self)
            var halves = eight
            return withUnsafeBytes(of: &halves) { raw in
                let quarter = 4 &* MemoryLayout<S>.stride
                let sum = raw.loadUnaligned(as: SIMD4<S>.self)
                    + raw.loadUnaligned(fromByteOffset: quarter, as: SIMD4<S>.self)
                return (sum[0] + sum[2]) + (sum[1] + sum[3])
            }
        }
    }

    /// Sets `count` scalars to `value`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func fill<S: TensorScalar>(_ t: Tensor<S>, with value: S) {
        let p = pointer(t), n = t.count, v = SIMD16<S>(repeating: value)
        var i = 0
        while i < n {
            st(v, p + i, Swift.min(16, n &- i))
            i &+= 16
        }
    }

    // MARK: - Unary

    /// f applied to one chunk. The switch sits inside the loop so that each
    /// case is compiled inline (closures passed to pre-specialised generic
    /// functions are not inlined); it is one predictable branch per 16 lanes.
    @_transparent
    static func apply<S: TensorScalar>(_ f: UnaryFunction, _ x: SIMD16<S>) -> SIMD16<S> {
        switch f {
        case .exp: return S.vectorExp(x)
        case .log: return S.vectorLog(x)
        case .tanh: return S.vectorTanh(x)
        case .sigmoid: return S.vectorSigmoid(x)
        case .square: return x * x
        case .negate: return -x
        case .atanh:
            var r = SIMD16<S>()
            for i in 0..<16 { r[i] = S.scalarAtanh(x[i]) }
            return r
        case let .affine(scale, shift): return x * S(scale) + S(shift)
        case let .clamp(lower, upper):
            let lo = SIMD16<S>(repeating: S(lower)), hi = SIMD16<S>(repeating: S(upper))
            return x.replacing(with: lo, where: x .< lo).replacing(with: hi, where: x .> hi)
        }
    }

    /// Backward kernel of a unary function for one chunk: g f'(x), from the input x and the output y.
    /// The formulas are listed with the `.unary` rule in Autodiff's `Backward.swift`.
    @_transparent
    static func unaryBackwardChunk<S: TensorScalar>(_ f: UnaryFunction, _ g: SIMD16<S>, _ x: SIMD16<S>,
                                            _ y: SIMD16<S>) -> SIMD16<S> {
        switch f {
        case .exp: return g * y
        case .log: return g / x
        case .tanh: return g * (1 - y * y)
        case .sigmoid: return g * y * (1 - y)
        case .atanh: return g / (1 - x * x)
        case .square: return 2 * g * x
        case .negate: return -g
        case let .affine(scale, _): return g * S(scale)
        case let .clamp(lower, upper):
            return g.replacing(with: 0, where: (x .< SIMD16(repeating: S(lower))) .| (x .> SIMD16(repeating: S(upper))))
        }
    }

    /// out = f(x), element-wise (same count).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func map<S: TensorScalar>(_ f: UnaryFunction, _ x: Tensor<S>, into out: Tensor<S>) {
        precondition(x.count == out.count, "map: \(x.shape) into \(out.shape)")
        let n = x.count, px = UnsafePointer(pointer(x)), py = pointer(out)
        // The transcendental functions get a loop each: inlined into one shared
        // loop they exceed the inliner's budget and become calls.
        switch f {
        case .exp: mapLoop(ExpFunction.self, n, px, py)
        case .log: mapLoop(LogFunction.self, n, px, py)
        case .tanh: mapLoop(TanhFunction.self, n, px, py)
        case .sigmoid: mapLoop(SigmoidFunction.self, n, px, py)
        default:
            var i = 0
            while i < n {
                let w = Swift.min(16, n &- i)
                st(apply(f, ld(px + i, w)), py + i, w)
                i &+= 16
            }
        }
    }

    @inline(never)
    static func mapLoop<S: TensorScalar, F: VectorFunction>(_: F.Type, _ n: Int, _ px: UnsafePointer<S>,
                                                            _ py: UnsafeMutablePointer<S>) {
        var i = 0
        while i < n {
            let w = Swift.min(16, n &- i)
            st(F.apply(ld(px + i, w)), py + i, w)
            i &+= 16
        }
    }

    /// Backward kernel of `map`: dx += dy * f'(x), given the forward input x and output y.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func unaryBackward<S: TensorScalar>(_ f: UnaryFunction, x: Tensor<S>, y: Tensor<S>,
                                                    dy: Tensor<S>, accumulateInto dx: Tensor<S>) {
        precondition(x.count == dx.count && y.count == dx.count && dy.count == dx.count, "unaryBackward shapes")
        let n = dx.count, px = UnsafePointer(pointer(x)), py = UnsafePointer(pointer(y))
        let pdy = UnsafePointer(pointer(dy)), pdx = pointer(dx)
        var i = 0
        while i < n {
            let w = Swift.min(16, n &- i)
            st(ld(pdx + i, w) + unaryBackwardChunk(f, ld(pdy + i, w), ld(px + i, w), ld(py + i, w)), pdx + i, w)
            i &+= 16
        }
    }

    // MARK: - Binary with broadcasting

    /// The broadcast shape of two operands, or nil when they do not broadcast.
    public static func broadcastShape(_ a: (Int, Int), _ b: (Int, Int)) -> (Int, Int)? {
        func dim(_ x: Int, _ y: Int) -> Int? { x == y ? x : (x == 1 ? y : (y == 1 ? x : nil)) }
        guard let r = dim(a.0, b.0), let c = dim(a.1, b.1) else { return nil }
        return (r, c)
    }

    @_transparent
    static func apply<S: TensorScalar>(_ op: BinaryOperator, _ a: SIMD16<S>, _ b: SIMD16<S>) -> SIMD16<S> {
        switch op {
        case .add: return a + b
        case .subtract: return a - b
        case .multiply: return a * b
        case .divide: return a / b
        case .minimum: return a.replacing(with: b, where: b .< a)
        case .maximum: return a.replacing(with: b, where: b .> a)
        }
    }

    /// out = a op b (or out += a op b), broadcasting a and b to out's shape.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func binary<S: TensorScalar>(_ op: BinaryOperator, _ a: Tensor<S>, _ b: Tensor<S>,
                                               into out: Tensor<S>, accumulate: Bool = false) {
        precondition((a.rows == out.rows || a.rows == 1) && (a.cols == out.cols || a.cols == 1)
                     && (b.rows == out.rows || b.rows == 1) && (b.cols == out.cols || b.cols == 1),
                     "binary: \(a.shape) and \(b.shape) do not broadcast to \(out.shape)")
        let rows = out.rows, cols = out.cols
        let pa = UnsafePointer(pointer(a)), pb = UnsafePointer(pointer(b)), po = pointer(out)
        if a.count == out.count && b.count == out.count {  // no broadcasting: one flat loop
            let n = out.count
            var i = 0
            while i < n {
                let w = Swift.min(16, n &- i)
                let v = apply(op, ld(pa + i, w), ld(pb + i, w))
                st(accumulate ? ld(po + i, w) + v : v, po + i, w)
                i &+= 16
            }
            return
        }
        let aRowStride = a.rows == 1 ? 0 : a.cols, bRowStride = b.rows == 1 ? 0 : b.cols
        let aFull = a.cols == cols, bFull = b.cols == cols
        for r in 0..<rows {
            let ar = pa + r &* aRowStride, br = pb + r &* bRowStride, orow = po + r &* cols
            let aSplat = SIMD16<S>(repeating: ar[0]), bSplat = SIMD16<S>(repeating: br[0])
            var j = 0
            while j < cols {
                let w = Swift.min(16, cols &- j)
                let v = apply(op, aFull ? ld(ar + j, w) : aSplat, bFull ? ld(br + j, w) : bSplat)
                st(accumulate ? ld(orow + j, w) + v : v, orow + j, w)
                j &+= 16
            }
        }
    }

    /// dst += scale * src, where src broadcasts to dst's shape or dst is src summed over dims of size 1.
    ///
    /// This one kernel is the backward of broadcasting (a sum over the broadcast
    /// dimension) and the forward of row/column sums.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func accumulate<S: TensorScalar>(_ src: Tensor<S>, scale: S = 1, into dst: Tensor<S>) {
        let ps = UnsafePointer(pointer(src)), pd = pointer(dst)
        let factor = SIMD16<S>(repeating: scale)
        if src.rows == dst.rows && src.cols == dst.cols {
            let n = dst.count
            var i = 0
            while i < n {
                let w = Swift.min(16, n &- i)
                st(ld(pd + i, w) + ld(ps + i, w) * factor, pd + i, w)
                i &+= 16
            }
        } else if (src.rows == dst.rows || src.rows == 1) && (src.cols == dst.cols || src.cols == 1) {
            // Broadcast src up to dst.
            let rowStride = src.rows == 1 ? 0 : src.cols, full = src.cols == dst.cols
            for r in 0..<dst.rows {
                let sr = ps + r &* rowStride, dr = pd + r &* dst.cols
                let splat = SIMD16<S>(repeating: sr[0] * scale)
                var j = 0
                while j < dst.cols {
                    let w = Swift.min(16, dst.cols &- j)
                    st(ld(dr + j, w) + (full ? ld(sr + j, w) * factor : splat), dr + j, w)
                    j &+= 16
                }
            }
        } else {
            precondition((dst.rows == src.rows || dst.rows == 1) && (dst.cols == src.cols || dst.cols == 1),
                         "accumulate: \(src.shape) into \(dst.shape)")
            let rows = src.rows, cols = src.cols
            if dst.cols == cols {  // sum over rows -> [1, cols]
                for r in 0..<rows {
                    let sr = ps + r &* cols
                    var j = 0
                    while j < cols {
                        let w = Swift.min(16, cols &- j)
                        st(ld(pd + j, w) + ld(sr + j, w) * factor, pd + j, w)
                        j &+= 16
                    }
                }
            } else {  // sum over columns -> [rows, 1] or [1, 1]
                var total: S = 0
                for r in 0..<rows {
                    let s = rowSum(ps + r &* cols, cols) * scale
                    if dst.rows == rows { pd[r] += s } else { total += s }
                }
                if dst.rows != rows { pd[0] += total }
            }
        }
    }

    @inline(__always)
    static func rowSum<S: TensorScalar>(_ p: UnsafePointer<S>, _ n: Int) -> S {
        var acc = SIMD16<S>()
        var i = 0
        while i &+ 16 <= n {
            acc += load(p + i)
            i &+= 16
        }
        if i < n { acc += loadPartial(p + i, n &- i) }
        return acc.sum()
    }

    /// Sum of all elements (in the tensor's precision, SIMD-blocked).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func sum<S: TensorScalar>(_ x: Tensor<S>) -> S { rowSum(UnsafePointer(pointer(x)), x.count) }

    /// Gradient of an element-wise minimum of equal shapes: ties go to `a`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func minimumBackward<S: TensorScalar>(a: Tensor<S>, b: Tensor<S>, dy: Tensor<S>,
                                                        da: Tensor<S>?, db: Tensor<S>?) {
        let n = dy.count, pa = UnsafePointer(pointer(a)), pb = UnsafePointer(pointer(b))
        let pdy = UnsafePointer(pointer(dy))
        // dy goes to a where a <= b (ties to a), to b elsewhere.
        let pda = da.map(pointer), pdb = db.map(pointer)
        var i = 0
        while i < n {
            let w = Swift.min(16, n &- i)
            let g = ld(pdy + i, w), takeB = ld(pa + i, w) .> ld(pb + i, w)
            if let pda { st(ld(pda + i, w) + g.replacing(with: 0, where: takeB), pda + i, w) }
            if let pdb { st(ld(pdb + i, w) + g.replacing(with: 0, where: .!takeB), pdb + i, w) }
            i &+= 16
        }
    }

    // MARK: - Columns

    /// Copies a [1, cols] row (any shape with cols elements) into every row of `dst`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func broadcastRow<S: TensorScalar>(_ row: Tensor<S>, into dst: Tensor<S>) {
        precondition(row.count == dst.cols, "broadcastRow: \(row.shape) into \(dst.shape)")
        let ps = UnsafePointer(pointer(row)), pd = pointer(dst)
        for r in 0..<dst.rows { (pd + r &* dst.cols).update(from: ps, count: dst.cols) }
    }

    /// Copies (or adds) `width` columns of `src` starting at `srcColumn` into `dst` at `dstColumn`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func copyColumns<S: TensorScalar>(_ src: Tensor<S>, from srcColumn: Int, into dst: Tensor<S>,
                                                    at dstColumn: Int, width: Int, accumulate: Bool = false) {
        precondition(src.rows == dst.rows && srcColumn + width <= src.cols && dstColumn + width <= dst.cols,
                     "copyColumns: \(width) columns of \(src.shape) at \(srcColumn) into \(dst.shape) at \(dstColumn)")
        let ps = UnsafePointer(pointer(src)), pd = pointer(dst)
        for r in 0..<src.rows {
            let s = ps + (r &* src.cols &+ srcColumn), d = pd + (r &* dst.cols &+ dstColumn)
            if accumulate {
                var j = 0
                while j < width {
                    let w = Swift.min(16, width &- j)
                    st(ld(d + j, w) + ld(s + j, w), d + j, w)
                    j &+= 16
                }
            } else {
                d.update(from: s, count: width)
            }
        }
    }
}

