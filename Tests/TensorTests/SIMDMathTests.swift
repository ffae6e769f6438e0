import Foundation
import Testing
@testable import Tensor

/// Float inputs spread over the whole range: a log-spaced sweep of magnitudes
/// from the subnormals to the largest finite float, both signs, plus a dense
/// uniform sweep near zero where most activations live.
private func sweep(limit: Float = .greatestFiniteMagnitude) -> [Float] {
    var values: [Float] = [0, -0, .leastNonzeroMagnitude, .leastNormalMagnitude, 1, -1]
    var x = Float.leastNonzeroMagnitude
    while x < limit {
        values.append(x)
        values.append(-x)
        x = max(x * 1.0137, x.nextUp)
    }
    var rng = Xoshiro256(seed: 7)
    for _ in 0..<20_000 { values.append(rng.nextUniform(Float.self) * 40 - 20) }
    return values
}

/// Max relative error of `f` (SIMD, 16 lanes at a time) against `reference` in Double.
private func maxRelativeError(_ inputs: [Float], _ f: (SIMD16<Float>) -> SIMD16<Float>,
                              _ reference: (Double) -> Double, relativeTo floor: Double = 0) -> (Double, Float) {
    var worst = 0.0, at: Float = 0
    for start in stride(from: 0, to: inputs.count, by: 16) {
        var v = SIMD16<Float>()
        for i in 0..<16 { v[i] = inputs[min(start + i, inputs.count - 1)] }
        let r = f(v)
        for i in 0..<16 {
            let expected = reference(Double(v[i]))
            let e = Float(expected)  // the correctly rounded float
            guard e.isFinite && e != 0 && abs(e) >= Float.leastNormalMagnitude else { continue }
            let err = abs(Double(r[i]) - expected) / max(abs(expected), floor)
            if err > worst { (worst, at) = (err, v[i]) }
        }
    }
    return (worst, at)
}

// MARK: - Accuracy over wide ranges

@Test func expIsAccurate() {
    let (err, at) = maxRelativeError(sweep(limit: 100), SIMDMath.exp, Foundation.exp)
    #expect(err < 3e-7, "max rel err \(err) at \(at)")
}

@Test func logIsAccurate() {
    let inputs = sweep().filter { $0 > 0 }
    let (err, at) = maxRelativeError(inputs, SIMDMath.log, Foundation.log)
    #expect(err < 3e-7, "max rel err \(err) at \(at)")
}

@Test func tanhIsAccurate() {
    let (err, at) = maxRelativeError(sweep(limit: 1e6), SIMDMath.tanh, Foundation.tanh)
    #expect(err < 5e-7, "max rel err \(err) at \(at)")
}

@Test func sigmoidIsAccurate() {
    let (err, at) = maxRelativeError(sweep(limit: 1e6), SIMDMath.sigmoid) { x in
        x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    }
    #expect(err < 5e-7, "max rel err \(err) at \(at)")
}

@Test func agreesWithGlibcFloatFunctions() {
    // Side by side with the C library's float versions the kernels replace.
    let inputs = sweep(limit: 80)
    var worst = 0.0
    for x in inputs where abs(x) < 80 {
        let ours = SIMDMath.exp(SIMD16(repeating: x))[0], theirs = expf(x)
        if theirs.isNormal { worst = max(worst, Double(abs(ours - theirs) / theirs)) }
    }
    #expect(worst < 3e-7)
}

// MARK: - Special values

/// A vector from explicitly typed floats (an untyped literal can infer another element type).
private func vector(_ values: [Float]) -> SIMD16<Float> { SIMD16(values + [Float](repeating: 0, count: 16 - values.count)) }

@Test func expSpecialValues() {
    let r = SIMDMath.exp(vector([0, -0.0, .infinity, -.infinity, .nan, 89, -104, -100, 88.7, -87]))
    #expect(r[0] == 1 && r[1] == 1 && r[2] == .infinity && r[3] == 0 && r[4].isNaN && r[5] == .infinity)
    #expect(r[6] == 0)
    #expect(r[7].isSubnormal)  // e^-100 ~ 3.7e-44 is a float subnormal
    #expect(abs(Double(r[7]) - Foundation.exp(-100.0)) <= Double(Float.leastNonzeroMagnitude))
    #expect(r[8].isFinite && r[9].isNormal)
}

@Test func logSpecialValues() {
    let r = SIMDMath.log(vector([0, -0.0, -1, .infinity, -.infinity, .nan, 1, .leastNonzeroMagnitude,
                                 .leastNormalMagnitude, .greatestFiniteMagnitude]))
    #expect(r[0] == -.infinity && r[1] == -.infinity)  // log(±0) = -inf
    #expect(r[2].isNaN && r[4].isNaN && r[5].isNaN)    // negative or nan -> nan
    #expect(r[3] == .infinity && r[6] == 0)
    #expect(abs(Double(r[7]) - Foundation.log(Double(Float.leastNonzeroMagnitude))) < 1e-5)
    #expect(abs(Double(r[9]) - Foundation.log(Double(Float.greatestFiniteMagnitude))) < 1e-4)
}

@Test func tanhAndSigmoidSpecialValues() {
    let t = SIMDMath.tanh(vector([0, -0.0, .infinity, -.infinity, .nan, 0x1p-133, -0x1p-133, 20, -20]))
    #expect(t[0] == 0 && t[1] == 0 && t[1].sign == .minus && t[2] == 1 && t[3] == -1 && t[4].isNaN)
    #expect(t[5] == 0x1p-133 && t[6] == -0x1p-133 && t[7] == 1 && t[8] == -1)
    let s = SIMDMath.sigmoid(vector([0, .infinity, -.infinity, .nan, -100, 100]))
    #expect(s[0] == 0.5 && s[1] == 1 && s[2] == 0 && s[3].isNaN && s[5] == 1)
    // e^-100 is subnormal: correct to the subnormal spacing, not flushed to 0.
    #expect(s[4] > 0 && abs(Double(s[4]) - Foundation.exp(-100.0)) <= Double(Float.leastNonzeroMagnitude))
}
