#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension EnvironmentGenerator {
    /// A standard normal double, drawn as numpy's `Generator.standard_normal` draws it.
    ///
    /// numpy's 256-layer ziggurat: one 64-bit draw gives the layer (its low 8 bits),
    /// the sign (the next bit) and a 52-bit magnitude. Inside the layer's rectangle
    /// core (99.3% of draws) that is the answer; otherwise the base layer samples the
    /// tail beyond `r` (Marsaglia's exponential method), and the other layers accept
    /// the point if it falls under the density in the wedge. The fallbacks consume
    /// further draws exactly where numpy's do, so the stream stays aligned.
    public mutating func standardNormal() -> Double {
        let ziggurat = NormalZiggurat.shared
        while true {
            let bits = next()
            let layer = Int(bits & 0xFF)
            let negative = (bits >> 8) & 1 == 1
            let magnitude = (bits >> 9) & 0x000F_FFFF_FFFF_FFFF
            let scaled = Double(magnitude) * ziggurat.width[layer]
            let x = negative ? -scaled : scaled
            if magnitude < ziggurat.coreLimit[layer] { return x }
            if layer == 0 {
                return sampleTail(negative: (magnitude >> 8) & 1 == 1)
            }
            // NOTE: `(f[i-1] - f[i]) * u + f[i]` rounds three times, as numpy's x86-64 build
            // computes it; Swift never fuses it into a multiply-add, which would flip
            // rare accept/reject decisions (and with them the rest of the stream).
            let wedgeHeight = ziggurat.density[layer - 1] - ziggurat.density[layer]
            if wedgeHeight * nextDouble() + ziggurat.density[layer] < exp(-0.5 * x * x) { return x }
        }
    }

    /// A draw from the normal tail beyond `r`, negated if `negative`.
    ///
    /// numpy takes the tail's sign from bit 8 of the magnitude rather than from the
    /// sign bit, and so does the caller. `log1p(-u)` is `log(1 - u)`, finite because `u < 1`.
    private mutating func sampleTail(negative: Bool) -> Double {
        let r = NormalZiggurat.r
        while true {
            let x = -NormalZiggurat.inverseR * log1p(-nextDouble())
            let y = -log1p(-nextDouble())
            if y + y > x * x { return negative ? -(r + x) : r + x }
        }
    }
}

/// The tables of numpy's 256-layer normal ziggurat, built once from `r` and `v`.
///
/// The layers have equal area `v`; the base layer is the rectangle up to `r` plus
/// the tail beyond it. Going up, each layer's edge follows from the one below by
/// `x[i] = f⁻¹(v / x[i+1] + f(x[i+1]))` with `f(x) = exp(-x²/2)` (Marsaglia and
/// Tsang's construction with a 52-bit magnitude). `width[i]` scales a magnitude to
/// an abscissa in layer i, `coreLimit[i]` is the magnitude below which a point is
/// inside the layer's rectangle core, and `density[i]` is `f` at the layer's edge.
struct NormalZiggurat: Sendable {
    /// The base layer's edge: where the tail begins (numpy's `ziggurat_nor_r`).
    static let r = 3.6541528853610088
    /// `1 / r`, the tail sampler's scale; the double equals numpy's `ziggurat_nor_inv_r`.
    static let inverseR = 1 / r
    /// The area of each layer, as numpy's tables were built with it.
    ///
    /// It is the value numpy's base-layer width implies (`wi[0] · 2^52 · f(r)`), a few
    /// ulps below the exact `r f(r) + √(π/2) erfc(r/√2)`. The 0.00492867323399 often
    /// quoted with the algorithm is it rounded to 12 digits and builds tables that
    /// differ from numpy's by thousands of ulps.
    static let layerArea = 0.004928673233974652

    static let shared = NormalZiggurat()

    /// The one layer whose `density` numpy's generator rounded up rather than to nearest.
    static let layerRoundedUp = 38

    private(set) var coreLimit = [UInt64](repeating: 0, count: 256)
    private(set) var width = [Double](repeating: 0, count: 256)
    private(set) var density = [Double](repeating: 0, count: 256)

    private init() {
        let (r, v, scale) = (Self.r, Self.layerArea, 0x1p52)
        func f(_ x: Double) -> Double { exp(-0.5 * x * x) }
        density[255] = f(r)
        width[255] = r / scale
        // The base layer is wider than r: its rectangle has area r f(r), the rest is tail.
        coreLimit[0] = Self.magnitude(r * density[255] / v * scale)
        width[0] = v / density[255] / scale
        density[0] = 1
        var outer = r
        for i in stride(from: 254, through: 1, by: -1) {
            let inner = (-2 * log(v / outer + density[i + 1])).squareRoot()
            coreLimit[i + 1] = Self.magnitude(inner / outer * scale)
            width[i] = inner / scale
            density[i] = f(inner)
            // NOTE: numpy's table holds f at this layer's edge one ulp above the correctly
            // rounded value (the libm its tables were generated with rounded the other
            // way). Every edge above this one is computed from it, so without the same
            // ulp the widths of layers 1-37 would drift by up to 76 ulps.
            if i == Self.layerRoundedUp { density[i] = density[i].nextUp }
            outer = inner
        }
        // The top layer has no rectangle core: every point goes to the wedge test.
        coreLimit[1] = 0
    }

    /// A core limit from its scaled value, which carries one fractional bit.
    ///
    /// numpy's limits are these values rounded half to even, not truncated as in
    /// Marsaglia and Tsang's code (three in four of its limits are even).
    private static func magnitude(_ scaled: Double) -> UInt64 {
        UInt64(scaled.rounded(.toNearestOrEven))
    }
}
