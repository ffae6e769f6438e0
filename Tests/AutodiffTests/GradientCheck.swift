import Testing
@testable import Autodiff

/// Central-difference gradient checks in Float64.
///
/// The checked function maps input variables to an output of any shape; the
/// scalar loss is sum(output * R) for a fixed random R, so every output
/// element's gradient is exercised with a different weight.
struct GradientCheck {
    static func randomTensor(_ rows: Int, _ cols: Int, seed: UInt64, range: ClosedRange<Double> = -1...1) -> Tensor<Double> {
        var rng = Xoshiro256(seed: seed)
        let t = Tensor<Double>(zeros: rows, cols)
        Kernels.fillUniform(t, lower: range.lowerBound, upper: range.upperBound, rng: &rng)
        return t
    }

    /// Largest |analytic - numeric| / max(1, |numeric|) over all inputs' elements.
    static func maxError(_ inputs: [Tensor<Double>], step h: Double = 1e-6,
                         _ f: (Tape<Double>, [Variable<Double>]) -> Variable<Double>) -> Double {
        func loss(_ tape: Tape<Double>, _ vars: [Variable<Double>], weights: inout Tensor<Double>?) -> Variable<Double> {
            let y = f(tape, vars)
            if weights == nil { weights = randomTensor(y.rows, y.cols, seed: 99) }
            return tape.sum(tape.multiply(y, mask: weights!))
        }
        var weights: Tensor<Double>?
        let tape = Tape<Double>()
        let vars = inputs.map { tape.parameter($0) }
        let l = loss(tape, vars, weights: &weights)
        tape.backward(from: l)
        var worst = 0.0
        for (k, input) in inputs.enumerated() {
            let analytic = tape.gradient(of: vars[k])
            for i in 0..<input.count {
                let saved = input[flat: i]
                func evaluate(_ x: Double) -> Double {
                    input[flat: i] = x
                    let t = Tape<Double>(recording: false)
                    return loss(t, inputs.map { t.constant($0) }, weights: &weights).value[0, 0]
                }
                let numeric = (evaluate(saved + h) - evaluate(saved - h)) / (2 * h)
                input[flat: i] = saved
                let a = analytic?[flat: i] ?? 0
                worst = max(worst, abs(a - numeric) / max(1, abs(numeric)))
            }
        }
        return worst
    }
}

// MARK: - The checker itself

@Test func gradientCheckDetectsAWrongRule() {
    // sum(x * x) computed as x * constant(x) has half the true gradient: the checker must notice.
    let x = GradientCheck.randomTensor(2, 3, seed: 1, range: 0.5...1)
    let err = GradientCheck.maxError([x]) { t, v in t.multiply(v[0], t.constant(v[0].value.copy())) }
    #expect(err > 0.1)
}
