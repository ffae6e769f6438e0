import Foundation
import Testing
@testable import NN

private func store(_ values: [Double]) -> ParameterStore<Double> {
    var layout = ParameterLayout()
    _ = layout.add("p", count: values.count)
    let s = ParameterStore<Double>(layout: layout)
    for (i, v) in values.enumerated() { s.values[flat: i] = v }
    return s
}

// MARK: - Adam

@Test func adamFollowsTheHandComputedSequence() {
    let s = store([1.0, -2.0])
    let adam = Adam<Double>(layout: s.layout, configuration: .init(learningRate: 0.1))
    let grads: [[Double]] = [[0.5, -1.0], [0.2, 3.0], [-0.4, 0.0]]
    var p = [1.0, -2.0], m = [0.0, 0.0], v = [0.0, 0.0]
    for (t, g) in grads.enumerated() {
        for i in 0..<2 { s.gradients[flat: i] = g[i] }
        adam.update(s)
        // PyTorch's Adam, written out.
        let step = Double(t + 1)
        for i in 0..<2 {
            m[i] = 0.9 * m[i] + 0.1 * g[i]
            v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i]
            let mHat = m[i] / (1 - pow(0.9, step)), vHat = v[i] / (1 - pow(0.999, step))
            p[i] -= 0.1 * mHat / (vHat.squareRoot() + 1e-8)
        }
        #expect(abs(s.values[flat: 0] - p[0]) < 1e-12 && abs(s.values[flat: 1] - p[1]) < 1e-12, "step \(t + 1)")
    }
    // The first step moves each parameter by about lr against its gradient's sign.
    #expect(adam.step == 3)
}

@Test func adamFloatMatchesDouble() {
    let d = store((0..<37).map { sin(Double($0)) })
    var layout = ParameterLayout()
    _ = layout.add("p", count: 37)
    let f = ParameterStore<Float>(layout: layout)
    f.values.assign(d.values.converted(to: Float.self))
    let ad = Adam<Double>(layout: d.layout), af = Adam<Float>(layout: f.layout)
    for step in 0..<5 {
        for i in 0..<37 {
            d.gradients[flat: i] = cos(Double(i * (step + 1)))
            f.gradients[flat: i] = Float(d.gradients[flat: i])
        }
        ad.update(d)
        af.update(f)
    }
    for i in 0..<37 { #expect(abs(Double(f.values[flat: i]) - d.values[flat: i]) < 1e-5) }
}

// MARK: - Gradient clipping

@Test func clippingScalesToTheMaximumAndReturnsThePreClipNorm() {
    let s = store([0, 0, 0])
    for (i, g) in [3.0, 4.0, 12.0].enumerated() { s.gradients[flat: i] = g }
    let norm = s.clipGradientNorm(maxNorm: 6.5)
    #expect(norm == 13)
    let factor = 6.5 / (13 + 1e-6)
    #expect(abs(s.gradients[flat: 0] - 3 * factor) < 1e-12 && abs(s.gradients[flat: 2] - 12 * factor) < 1e-12)
    #expect(abs(s.gradientNorm() - 6.5) < 1e-5)
}

@Test func clippingLeavesSmallAndNonFiniteGradientsAlone() {
    let s = store([0, 0])
    s.gradients[flat: 0] = 0.3
    #expect(s.clipGradientNorm(maxNorm: 30) == 0.3)
    #expect(s.gradients[flat: 0] == 0.3)
    s.gradients[flat: 1] = .nan
    #expect(s.clipGradientNorm(maxNorm: 30).isNaN)
    #expect(s.gradients[flat: 0] == 0.3)
}

// MARK: - Polyak averaging

@Test func polyakMovesTargetTowardOnline() {
    let online = store([1, 2, 3]), target = store([0, 0, 0])
    target.polyakUpdate(toward: online, tau: 0.25)
    #expect(target.values.scalars[0..<3] == [0.25, 0.5, 0.75])
    target.polyakUpdate(toward: online, tau: 1)
    #expect(target.values.scalars[0..<3] == [1, 2, 3])
}
