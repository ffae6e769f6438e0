/// Which implementation runs a GEMM.
public enum GEMMBackend: String, Sendable {
    /// Per shape, the kernel `GEMMRouting` picks (OpenBLAS or pure Swift); pure Swift when OpenBLAS is not loaded.
    case automatic
    /// OpenBLAS only (a precondition failure if it is not loaded).
    case blas
    /// The pure-Swift SIMD kernel: the fallback and the tests' independent oracle.
    case swift
}

/// General matrix multiply C = alpha * op(A) * op(B) + beta * C on 2-D tensors.
public enum GEMM {
    /// Computes `c = alpha * op(a) * op(b) + beta * c`, where op transposes when asked.
    ///
    /// With `beta == 0`, `c` is not read (stale NaNs in an output buffer do not leak).
    /// Returns the backend that ran.
    @discardableResult
    public static func multiply<S: TensorScalar>(
        _ a: Tensor<S>, _ b: Tensor<S>, transposeA transA: Bool = false, transposeB transB: Bool = false,
        into c: Tensor<S>, alpha: S = 1, beta: S = 0, backend: GEMMBackend = .automatic
    ) -> GEMMBackend {
        let m = transA ? a.cols : a.rows
        let k = transA ? a.rows : a.cols
        let kb = transB ? b.cols : b.rows
        let n = transB ? b.rows : b.cols
        precondition(k == kb && c.rows == m && c.cols == n,
                     "GEMM shapes: op(A) [\(m), \(k)] x op(B) [\(kb), \(n)] into [\(c.rows), \(c.cols)]")
        if m == 0 || n == 0 { return backend }
        let pa = UnsafePointer(a.buffer.baseAddress!), pb = UnsafePointer(b.buffer.baseAddress!)
        let pc = c.buffer.baseAddress!
        if k == 0 {
            scale(pc, count: m * n, by: beta)
            return backend
        }
        let blas = backend == .automatic ? GEMMRouting.current().backend(m: m, n: n, k: k) == .blas : backend == .blas
        if blas,
           S.blasGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                      a: pa, lda: a.cols, b: pb, ldb: b.cols, beta: beta, c: pc, ldc: n) {
            return .blas
        }
        precondition(backend != .blas, "GEMM backend .blas requested but OpenBLAS is not loaded")
        swiftGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                  a: pa, lda: a.cols, b: pb, ldb: b.cols, beta: beta, c: pc, ldc: n)
        return .swift
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func scale<S: TensorScalar>(_ c: UnsafeMutablePointer<S>, count: Int, by beta: S) {
        for i in 0..<count { c[i] = beta == 0 ? 0 : beta * c[i] }
    }

    /// Depth of one packed block: 256 rows of B (32 KiB per 32-wide panel) stay in L2.
    static let kc = 256

    /// The pure-Swift GEMM on raw row-major buffers.
    ///
    /// Register-blocked: an 8x32 tile of C lives in 16 SIMD16 accumulators while
    /// k runs; A is packed 8 rows at a time and B 32 columns at a time into
    /// 64-byte aligned buffers (zero-padded at the edges), so every transpose
    /// case runs the same micro-kernel.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    public static func swiftGEMM<S: TensorScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: S,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
        beta: S, c: UnsafeMutablePointer<S>, ldc: Int
    ) {
        if m == 1 && transB && !transA {
            singleRowTimesTransposed(n: n, k: k, alpha: alpha, x: a, b: b, ldb: ldb, beta: beta, c: c)
            return
        }
        // Skinny shapes waste most of an 8x32 tile: a handful of output columns
        // become dot products, a handful of rows become row updates.
        if n < 8 || (m < 4 && transB && !transA) {
            skinnyColumnsGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                              b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        if m < 4 {
            skinnyRowsGEMM(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda,
                           b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
            return
        }
        let panels = (n + 31) / 32
        let kcMax = Swift.min(k, kc)
        let packedB = TensorStorage<S>(capacity: panels * kcMax * 32)
        let packedA = TensorStorage<S>(capacity: kcMax * 8)
        let tileStorage = TensorStorage<S>(capacity: 8 * 32)
        let pt = tileStorage.buffer(offset: 0, count: 8 * 32).baseAddress!
        let pb = packedB.buffer(offset: 0, count: packedB.capacity).baseAddress!
        let pa = packedA.buffer(offset: 0, count: packedA.capacity).baseAddress!
        var p0 = 0
        while p0 < k {
            let kb = Swift.min(kc, k - p0)
            let blockBeta: S = p0 == 0 ? beta : 1
            // Pack op(B)[p0 ..< p0+kb, all columns] panel by panel.
            for panel in 0..<panels {
                let j0 = panel * 32
                let width = Swift.min(32, n - j0)
                let dst = pb + panel * kb * 32
                for kk in 0..<kb {
                    let row = dst + kk * 32
                    for jj in 0..<width {
                        row[jj] = transB ? b[(j0 + jj) * ldb + p0 + kk] : b[(p0 + kk) * ldb + j0 + jj]
                    }
                    for jj in width..<32 { row[jj] = 0 }
                }
            }
            var i0 = 0
            while i0 < m {
                let height = Swift.min(8, m - i0)
                for kk in 0..<kb {
                    for ii in 0..<8 {
                        pa[kk * 8 + ii] = ii < height
                            ? (transA ? a[(p0 + kk) * lda + i0 + ii] : a[(i0 + ii) * lda + p0 + kk]) : 0
                    }
                }
                for panel in 0..<panels {
                    let j0 = panel * 32
                    microKernel(kb: kb, pa: UnsafePointer(pa), pb: UnsafePointer(pb + panel * kb * 32), tile: pt)
                    store(UnsafePointer(pt), rows: height, cols: Swift.min(32, n - j0), alpha: alpha, beta: blockBeta,
                          c: c + i0 * ldc + j0, ldc: ldc)
                }
                i0 += 8
            }
            p0 += kb
        }
    }

    /// One row times Bᵀ (a Linear layer at batch 1, acting): c[j] = alpha Σ_p x[p] B[j, p] + beta c[j].
    ///
    /// Four dot products at a time in 16-lane chunks (the last k mod 16 terms as one zero-padded chunk),
    /// summed by a tree, and nothing allocated: at this size set-up costs more than the arithmetic.
    static func singleRowTimesTransposed<S: TensorScalar>(
        n: Int, k: Int, alpha: S, x: UnsafePointer<S>, b: UnsafePointer<S>, ldb: Int, beta: S,
        c: UnsafeMutablePointer<S>
    ) {
        let full = k & ~15, tail = k &- full
        let xTail = Kernels.loadPartial(x + full, tail)
        @inline(__always) func dot(_ row: UnsafePointer<S>) -> SIMD16<S> {
            var acc = SIMD16<S>()
            var p = 0
            while p < full {
                acc.addProduct(Kernels.load(x + p), Kernels.load(row + p))
                p &+= 16
            }
            if tail > 0 { acc.addProduct(xTail, Kernels.loadPartial(row + full, tail)) }
            return acc
        }
        @inline(__always) func finish(_ j: Int, _ acc: SIMD16<S>) {
            c[j] = alpha * Kernels.treeSum(acc) + (beta == 0 ? 0 : beta * c[j])
        }
        var j = 0
        while j &+ 4 <= n {
            let r0 = b + j &* ldb
            var a0 = SIMD16<S>(), a1 = SIMD16<S>(), a2 = SIMD16<S>(), a3 = SIMD16<S>()
            var p = 0
            while p < full {
                let xv = Kernels.load(x + p)
                a0.addProduct(xv, Kernels.load(r0 + p))
                a1.addProduct(xv, Kernels.load(r0 + ldb + p))
                a2.addProduct(xv, Kernels.load(r0 + 2 &* ldb + p))
                a3.addProduct(xv, Kernels.load(r0 + 3 &* ldb + p))
                p &+= 16
            }
            if tail > 0 {
                a0.addProduct(xTail, Kernels.loadPartial(r0 + full, tail))
                a1.addProduct(xTail, Kernels.loadPartial(r0 + ldb + full, tail))
                a2.addProduct(xTail, Kernels.loadPartial(r0 + 2 &* ldb + full, tail))
                a3.addProduct(xTail, Kernels.loadPartial(r0 + 3 &* ldb + full, tail))
            }
            finish(j, a0)
            finish(j &+ 1, a1)
            finish(j &+ 2, a2)
            finish(j &+ 3, a3)
            j &+= 4
        }
        while j < n {
            finish(j, dot(b + j &* ldb))
            j &+= 1
        }
    }

    /// Few output columns: each C[i, j] is a SIMD dot product over k of packed rows.
    static func skinnyColumnsGEMM<S: TensorScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: S,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
        beta: S, c: UnsafeMutablePointer<S>, ldc: Int
    ) {
        // Rows of op(A) and columns of op(B) with k running contiguously: B
        // transposed (x W^T) and A untransposed already are; others are packed.
        let packedB = TensorStorage<S>(capacity: transB ? 0 : n * k)
        let bt = packedB.buffer(offset: 0, count: transB ? 0 : n * k).baseAddress!
        if !transB { for j in 0..<n { for p in 0..<k { bt[j * k + p] = b[p * ldb + j] } } }
        let packedA = TensorStorage<S>(capacity: transA ? m * k : 0)
        let at = packedA.buffer(offset: 0, count: transA ? m * k : 0).baseAddress!
        if transA { for i in 0..<m { for p in 0..<k { at[i * k + p] = a[p * lda + i] } } }
        for i in 0..<m {
            let row = transA ? UnsafePointer(at + i * k) : a + i * lda
            for j in 0..<n {
                let col = transB ? b + j * ldb : UnsafePointer(bt + j * k)
                var acc = SIMD16<S>()
                var p = 0
                while p < k {
                    let w = Swift.min(16, k &- p)
                    acc.addProduct(Kernels.ld(row + p, w), Kernels.ld(col + p, w))
                    p &+= 16
                }
                let dst = c + i * ldc + j
                dst.pointee = alpha * acc.sum() + (beta == 0 ? 0 : beta * dst.pointee)
            }
        }
    }

    /// Few output rows: each row of C accumulates scaled rows of op(B).
    static func skinnyRowsGEMM<S: TensorScalar>(
        transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: S,
        a: UnsafePointer<S>, lda: Int, b: UnsafePointer<S>, ldb: Int,
        beta: S, c: UnsafeMutablePointer<S>, ldc: Int
    ) {
        let packedB = TensorStorage<S>(capacity: transB ? k * n : 0)
        let bp = packedB.buffer(offset: 0, count: transB ? k * n : 0).baseAddress!
        if transB { for p in 0..<k { for j in 0..<n { bp[p * n + j] = b[j * ldb + p] } } }
        let accumulator = TensorStorage<S>(capacity: n)
        let acc = accumulator.buffer(offset: 0, count: n).baseAddress!
        for i in 0..<m {
            for j in 0..<n { acc[j] = 0 }
            for p in 0..<k {
                let scale = SIMD16<S>(repeating: transA ? a[p * lda + i] : a[i * lda + p])
                let row = transB ? UnsafePointer(bp + p * n) : b + p * ldb
                var j = 0
                while j < n {
                    let w = Swift.min(16, n &- j)
                    Kernels.st(Kernels.ld(acc + j, w).addingProduct(scale, Kernels.ld(row + j, w)), acc + j, w)
                    j &+= 16
                }
            }
            let dst = c + i * ldc
            for j in 0..<n { dst[j] = alpha * acc[j] + (beta == 0 ? 0 : beta * dst[j]) }
        }
    }

    /// The 8x32 tile of op(A) op(B) over one packed k block.
    @inline(__always)
    static func microKernel<S: TensorScalar>(kb: Int, pa: UnsafePointer<S>, pb: UnsafePointer<S>,
                                             tile: UnsafeMutablePointer<S>) {
        var c00 = SIMD16<S>(), c01 = SIMD16<S>()
        var c10 = SIMD16<S>(), c11 = SIMD16<S>()
        var c20 = SIMD16<S>(), c21 = SIMD16<S>()
        var c30 = SIMD16<S>(), c31 = SIMD16<S>()
        var c40 = SIMD16<S>(), c41 = SIMD16<S>()
        var c50 = SIMD16<S>(), c51 = SIMD16<S>()
        var c60 = SIMD16<S>(), c61 = SIMD16<S>()
        var c70 = SIMD16<S>(), c71 = SIMD16<S>()
        for kk in 0..<kb {
            let b0 = UnsafeRawPointer(pb + kk &* 32).loadUnaligned(as: SIMD16<S>.self)
            let b1 = UnsafeRawPointer(pb + (kk &* 32 &+ 16)).loadUnaligned(as: SIMD16<S>.self)
            let a0 = SIMD16<S>(repeating: pa[kk &* 8 &+ 0])
            c00.addProduct(a0, b0)
            c01.addProduct(a0, b1)
            let a1 = SIMD16<S>(repeating: pa[kk &* 8 &+ 1])
            c10.addProduct(a1, b0)
            c11.addProduct(a1, b1)
            let a2 = SIMD16<S>(repeating: pa[kk &* 8 &+ 2])
            c20.addProduct(a2, b0)
            c21.addProduct(a2, b1)
            let a3 = SIMD16<S>(repeating: pa[kk &* 8 &+ 3])
            c30.addProduct(a3, b0)
            c31.addProduct(a3, b1)
            let a4 = SIMD16<S>(repeating: pa[kk &* 8 &+ 4])
            c40.addProduct(a4, b0)
            c41.addProduct(a4, b1)
            let a5 = SIMD16<S>(repeating: pa[kk &* 8 &+ 5])
            c50.addProduct(a5, b0)
            c51.addProduct(a5, b1)
            let a6 = SIMD16<S>(repeating: pa[kk &* 8 &+ 6])
            c60.addProduct(a6, b0)
            c61.addProduct(a6, b1)
            let a7 = SIMD16<S>(repeating: pa[kk &* 8 &+ 7])
            c70.addProduct(a7, b0)
            c71.addProduct(a7, b1)
        }
        UnsafeMutableRawPointer(tile + 0).storeBytes(of: c00, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 16).storeBytes(of: c01, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 32).storeBytes(of: c10, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 48).storeBytes(of: c11, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 64).storeBytes(of: c20, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 80).storeBytes(of: c21, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 96).storeBytes(of: c30, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 112).storeBytes(of: c31, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 128).storeBytes(of: c40, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 144).storeBytes(of: c41, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 160).storeBytes(of: c50, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 176).storeBytes(of: c51, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 192).storeBytes(of: c60, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 208).storeBytes(of: c61, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 224).storeBytes(of: c70, as: SIMD16<S>.self)
        UnsafeMutableRawPointer(tile + 240).storeBytes(of: c71, as: SIMD16<S>.self)
    }

    /// Writes alpha * tile + beta * C for the valid part of an 8x32 tile.
    @inline(__always)
    static func store<S: TensorScalar>(_ tile: UnsafePointer<S>, rows: Int, cols: Int, alpha: S, beta: S,
                                       c: UnsafeMutablePointer<S>, ldc: Int) {
        for r in 0..<rows {
            let row = c + r * ldc
            for half in 0..<2 {
                let j0 = half * 16
                let width = Swift.min(16, cols - j0)
                if width <= 0 { break }
                let v = UnsafeRawPointer(tile + r * 32 + j0).loadUnaligned(as: SIMD16<S>.self) * alpha
                if width == 16 {
                    let dst = UnsafeMutableRawPointer(row + j0)
                    let old = beta == 0 ? SIMD16<S>() : dst.loadUnaligned(as: SIMD16<S>.self) * beta
                    dst.storeBytes(of: v + old, as: SIMD16<S>.self)
                } else {
                    for j in 0..<width { row[j0 + j] = v[j] + (beta == 0 ? 0 : beta * row[j0 + j]) }
                }
            }
        }
    }
}

/// Which kernel runs a GEMM of a given shape when the caller asks for `.automatic`.
///
/// A fixed rule of the shape and of the two kernels' vector widths, never a timing: the kernels sum
/// in different orders, so a choice made by timing would change an update's bits with the machine's
/// load, and a run's weights for a fixed seed must be the same in every run on the same machine
/// (docs/benchmarks.md, "Choosing the GEMM kernel"). The rule was read off `meow-bench gemm`, which
/// times every shape of an update with both kernels and marks where the rule loses.
public struct GEMMRouting: Sendable, Equatable {
    /// Vector width of the loaded OpenBLAS kernel in bits; nil when OpenBLAS is not loaded.
    public var blasVectorBits: Int?
    /// Vector width the pure-Swift kernel was compiled for.
    public var swiftVectorBits: Int
    /// The widest vector the CPU computes on in one pass (`CPUFeatures.datapathBits`): a wider kernel gains nothing.
    public var datapathBits: Int

    public init(blasVectorBits: Int?, swiftVectorBits: Int = GEMMRouting.compiledSwiftVectorBits,
                datapathBits: Int = 512) {
        self.blasVectorBits = blasVectorBits
        self.swiftVectorBits = swiftVectorBits
        self.datapathBits = datapathBits
    }

    /// Whether the pure-Swift kernel computes on wider vectors than OpenBLAS's on this CPU.
    var swiftIsWider: Bool {
        guard let blasBits = blasVectorBits else { return true }
        return min(swiftVectorBits, datapathBits) > min(blasBits, datapathBits)
    }

    /// 512 when the numeric modules were built for AVX-512 (Package.swift defines `MEOW_SIMD512`), else 256.
    public static var compiledSwiftVectorBits: Int {
        #if MEOW_SIMD512
        return 512
        #else
        return 256
        #endif
    }

    /// The routing of this process's OpenBLAS (loading it on first use).
    public static func current() -> GEMMRouting { BLAS.current()?.routing ?? GEMMRouting(blasVectorBits: nil) }

    /// The largest n·k of a single-row product that runs pure Swift: the widest acting layer
    /// (Humanoid's first, 64 × 393) with room to spare.
    public static let singleRowLimit = 32_768

    /// The kernel for op(A) [m, k] × op(B) [k, n].
    ///
    /// Without OpenBLAS: pure Swift. A single row of a small product (a Linear layer when acting at
    /// batch 1) runs the pure-Swift dot products, which skip OpenBLAS's per-call set-up; a large one
    /// (a shift head's output-layer weight gradient, 256×256) is faster in OpenBLAS. Otherwise
    /// OpenBLAS, unless the pure-Swift kernel computes on wider vectors on this CPU (OpenBLAS's
    /// Haswell kernel on a CPU with full-width AVX-512) and the shape fills the Swift kernel's 8×32
    /// register tiles. Where AVX-512 runs as two halves (Zen 4), a 512-bit kernel is no wider than a
    /// 256-bit one and OpenBLAS keeps every shape.
    public func backend(m: Int, n: Int, k: Int) -> GEMMBackend {
        guard blasVectorBits != nil else { return .swift }
        if m == 1 && n * k <= Self.singleRowLimit { return .swift }
        if swiftIsWider && m >= 8 && n >= 32 && k >= 16 { return .swift }
        return .blas
    }

    /// One line for start-up logs: which kernel runs which shapes.
    public var summary: String {
        guard let blasBits = blasVectorBits else { return "GEMM: every shape on the pure-Swift kernel" }
        let cpu = "CPU datapath \(datapathBits)-bit"
        if swiftIsWider {
            return "GEMM: pure-Swift \(swiftVectorBits)-bit kernel for m ≥ 8, n ≥ 32, k ≥ 16 and for small single rows;"
                + " OpenBLAS (\(blasBits)-bit kernel) for the other shapes (\(cpu))"
        }
        return "GEMM: OpenBLAS (\(blasBits)-bit kernel) for every shape but small single rows (pure Swift) (\(cpu))"
    }
}
