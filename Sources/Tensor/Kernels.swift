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

    /// y[i] = f(x[i]) over n scalars, 16 at a time.
    @inline(__always)
    static func map1<S: TensorScalar>(_ n: Int, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
                                      _ f: (SIMD16<S>) -> SIMD16<S>) {
        var i = 0
        while i &+ 16 <= n {
            store(f(load(x + i)), y + i)
            i &+= 16
        }
        if i < n { storePartial(f(loadPartial(x + i, n &- i)), y + i, n &- i) }
    }

    /// y[i] = f(a[i], b[i]).
    @inline(__always)
    static func map2<S: TensorScalar>(_ n: Int, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>,
                                      _ y: UnsafeMutablePointer<S>, _ f: (SIMD16<S>, SIMD16<S>) -> SIMD16<S>) {
        var i = 0
        while i &+ 16 <= n {
            store(f(load(a + i), load(b + i)), y + i)
            i &+= 16
        }
        if i < n { storePartial(f(loadPartial(a + i, n &- i), loadPartial(b + i, n &- i)), y + i, n &- i) }
    }

    /// y[i] = f(a[i], b[i], c[i]).
    @inline(__always)
    static func map3<S: TensorScalar>(_ n: Int, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ c: UnsafePointer<S>,
                                      _ y: UnsafeMutablePointer<S>,
                                      _ f: (SIMD16<S>, SIMD16<S>, SIMD16<S>) -> SIMD16<S>) {
        var i = 0
        while i &+ 16 <= n {
            store(f(load(a + i), load(b + i), load(c + i)), y + i)
            i &+= 16
        }
        if i < n {
            let r = n &- i
            storePartial(f(loadPartial(a + i, r), loadPartial(b + i, r), loadPartial(c + i, r)), y + i, r)
        }
    }

    /// y[i] += f(a[i], b[i], c[i]).
    @inline(__always)
    static func map3Accumulate<S: TensorScalar>(_ n: Int, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>,
                                                _ c: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
                                                _ f: (SIMD16<S>, SIMD16<S>, SIMD16<S>) -> SIMD16<S>) {
        var i = 0
        while i &+ 16 <= n {
            store(load(y + i) + f(load(a + i), load(b + i), load(c + i)), y + i)
            i &+= 16
        }
        if i < n {
            let r = n &- i
            storePartial(loadPartial(y + i, r) + f(loadPartial(a + i, r), loadPartial(b + i, r), loadPartial(c + i, r)),
                         y + i, r)
        }
    }

    @inline(__always)
    static func pointer<S: TensorScalar>(_ t: Tensor<S>) -> UnsafeMutablePointer<S> { t.buffer.baseAddress! }

    // MARK: - Unary

    /// out = f(x), element-wise (same count).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func map<S: TensorScalar>(_ f: UnaryFunction, _ x: Tensor<S>, into out: Tensor<S>) {
        precondition(x.count == out.count, "map: \(x.shape) into \(out.shape)")
        let n = x.count, px = UnsafePointer(pointer(x)), py = pointer(out)
        switch f {
        case .exp: map1(n, px, py) { S.vectorExp($0) }
        case .log: map1(n, px, py) { S.vectorLog($0) }
        case .tanh: map1(n, px, py) { S.vectorTanh($0) }
        case .sigmoid: map1(n, px, py) { S.vectorSigmoid($0) }
        case .square: map1(n, px, py) { $0 * $0 }
        case .negate: map1(n, px, py) { -$0 }
        case .atanh: for i in 0..<n { py[i] = S.scalarAtanh(px[i]) }
        case let .affine(scale, shift):
            let s = S(scale), t = S(shift)
            map1(n, px, py) { $0 * s + t }
        case let .clamp(lower, upper):
            let lo = SIMD16<S>(repeating: S(lower)), hi = SIMD16<S>(repeating: S(upper))
            map1(n, px, py) { $0.replacing(with: lo, where: $0 .< lo).replacing(with: hi, where: $0 .> hi) }
        }
    }

    /// dx += dy * f'(x), given the forward input x and output y.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func mapBackward<S: TensorScalar>(_ f: UnaryFunction, x: Tensor<S>, y: Tensor<S>,
                                                    dy: Tensor<S>, accumulateInto dx: Tensor<S>) {
        precondition(x.count == dx.count && y.count == dx.count && dy.count == dx.count, "mapBackward shapes")
        let n = dx.count, px = UnsafePointer(pointer(x)), py = UnsafePointer(pointer(y))
        let pdy = UnsafePointer(pointer(dy)), pdx = pointer(dx)
        switch f {
        case .exp: map3(n, pdy, py, pdx, pdx) { g, y, d in d + g * y }
        case .log: map3(n, pdy, px, pdx, pdx) { g, x, d in d + g / x }
        case .tanh: map3(n, pdy, py, pdx, pdx) { g, y, d in d + g * (1 - y * y) }
        case .sigmoid: map3(n, pdy, py, pdx, pdx) { g, y, d in d + g * y * (1 - y) }
        case .atanh: map3(n, pdy, px, pdx, pdx) { g, x, d in d + g / (1 - x * x) }
        case .square: map3(n, pdy, px, pdx, pdx) { g, x, d in d + 2 * g * x }
        case .negate: map2(n, pdy, pdx, pdx) { g, d in d - g }
        case let .affine(scale, _):
            let s = S(scale)
            map2(n, pdy, pdx, pdx) { g, d in d + g * s }
        case let .clamp(lower, upper):
            let lo = SIMD16<S>(repeating: S(lower)), hi = SIMD16<S>(repeating: S(upper))
            map3(n, pdy, px, pdx, pdx) { g, x, d in
                d + g.replacing(with: 0, where: (x .< lo) .| (x .> hi))
            }
        }
    }

    // MARK: - Binary with broadcasting

    /// The broadcast shape of two operands, or nil when they do not broadcast.
    public static func broadcastShape(_ a: (Int, Int), _ b: (Int, Int)) -> (Int, Int)? {
        func dim(_ x: Int, _ y: Int) -> Int? { x == y ? x : (x == 1 ? y : (y == 1 ? x : nil)) }
        guard let r = dim(a.0, b.0), let c = dim(a.1, b.1) else { return nil }
        return (r, c)
    }

    /// out = a op b (or out += a op b), broadcasting a and b to out's shape.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func binary<S: TensorScalar>(_ op: BinaryOperator, _ a: Tensor<S>, _ b: Tensor<S>,
                                               into out: Tensor<S>, accumulate: Bool = false) {
        precondition((a.rows == out.rows || a.rows == 1) && (a.cols == out.cols || a.cols == 1)
                     && (b.rows == out.rows || b.rows == 1) && (b.cols == out.cols || b.cols == 1),
                     "binary: \(a.shape) and \(b.shape) do not broadcast to \(out.shape)")
        switch op {
        case .add: broadcastLoop(a, b, out, accumulate) { $0 + $1 }
        case .subtract: broadcastLoop(a, b, out, accumulate) { $0 - $1 }
        case .multiply: broadcastLoop(a, b, out, accumulate) { $0 * $1 }
        case .divide: broadcastLoop(a, b, out, accumulate) { $0 / $1 }
        case .minimum: broadcastLoop(a, b, out, accumulate) { $0.replacing(with: $1, where: $1 .< $0) }
        case .maximum: broadcastLoop(a, b, out, accumulate) { $0.replacing(with: $1, where: $1 .> $0) }
        }
    }

    @inline(__always)
    static func broadcastLoop<S: TensorScalar>(_ a: Tensor<S>, _ b: Tensor<S>, _ out: Tensor<S>, _ accumulate: Bool,
                                               _ f: (SIMD16<S>, SIMD16<S>) -> SIMD16<S>) {
        let rows = out.rows, cols = out.cols
        let pa = UnsafePointer(pointer(a)), pb = UnsafePointer(pointer(b)), po = pointer(out)
        let aRowStride = a.rows == 1 ? 0 : a.cols, bRowStride = b.rows == 1 ? 0 : b.cols
        let aFull = a.cols == cols, bFull = b.cols == cols
        for r in 0..<rows {
            let ar = pa + r &* aRowStride, br = pb + r &* bRowStride, orow = po + r &* cols
            var j = 0
            while j < cols {
                let w = Swift.min(16, cols &- j)
                let va = aFull ? (w == 16 ? load(ar + j) : loadPartial(ar + j, w)) : SIMD16<S>(repeating: ar[0])
                let vb = bFull ? (w == 16 ? load(br + j) : loadPartial(br + j, w)) : SIMD16<S>(repeating: br[0])
                var v = f(va, vb)
                if accumulate { v += w == 16 ? load(orow + j) : loadPartial(orow + j, w) }
                if w == 16 { store(v, orow + j) } else { storePartial(v, orow + j, w) }
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
        if src.rows == dst.rows && src.cols == dst.cols {
            map2(dst.count, ps, UnsafePointer(pd), pd) { s, d in d + s * scale }
        } else if (src.rows == dst.rows || src.rows == 1) && (src.cols == dst.cols || src.cols == 1) {
            broadcastLoop(dst, src, dst, false) { d, s in d + s * scale }  // broadcast src up to dst
        } else {
            precondition((dst.rows == src.rows || dst.rows == 1) && (dst.cols == src.cols || dst.cols == 1),
                         "accumulate: \(src.shape) into \(dst.shape)")
            let rows = src.rows, cols = src.cols
            if dst.cols == cols {  // sum over rows -> [1, cols]
                for r in 0..<rows { map2(cols, ps + r &* cols, UnsafePointer(pd), pd) { s, d in d + s * scale } }
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
        if let da { map3Accumulate(n, pa, pb, pdy, pointer(da)) { a, b, g in g.replacing(with: 0, where: a .> b) } }
        if let db { map3Accumulate(n, pa, pb, pdy, pointer(db)) { a, b, g in g.replacing(with: 0, where: a .<= b) } }
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
                map2(width, s, UnsafePointer(d), d) { $0 + $1 }
            } else {
                d.update(from: s, count: width)
            }
        }
    }
}

