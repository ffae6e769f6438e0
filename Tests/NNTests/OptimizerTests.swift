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

@Test func adamRestoredAtAStepContinuesWithTheSameBits() {
    // One optimizer runs 3,000 steps; a second is restored at step 2,999 from the first's state
    // and takes the last step: beta^t rebuilt at restore must give the running product's bits.
    let a = store((0..<19).map { cos(Double($0)) })
    let adam = Adam<Double>(layout: a.layout, configuration: .init(learningRate: 0.01))
    let b = store(Array(repeating: 0, count: 19))
    let restored = Adam<Double>(layout: b.layout, configuration: .init(learningRate: 0.01))
    for step in 1...3000 {
        for i in 0..<19 { a.gradients[flat: i] = sin(Double(i &* 31 &+ step)) }
        if step == 3000 {
            b.values.assign(a.values)
            b.gradients.assign(a.gradients)
            restored.firstMoment.assign(adam.firstMoment)
            restored.secondMoment.assign(adam.secondMoment)
            restored.restore(step: 2999)
            restored.update(b)
        }
        adam.update(a)
    }
    #expect(restored.step == adam.step)
    for i in 0..<19 { #expect(b.values[flat: i].bitPattern == a.values[flat: i].bitPattern, "element \(i)") }
}

@Test func adamBiasCorrectionFollowsChangedBetas() {
    // Changing the betas mid-run rebuilds beta^t for the new pair rather than mixing the two.
    let s = store([0.5])
    let adam = Adam<Double>(layout: s.layout, configuration: .init(learningRate: 0.1))
    s.gradients[flat: 0] = 1
    for _ in 0..<4 { adam.update(s) }
    adam.configuration.beta1 = 0.5
    adam.configuration.beta2 = 0.5
    let reference = store([s.values[flat: 0]])
    let fresh = Adam<Double>(layout: reference.layout, configuration: .init(learningRate: 0.1, beta1: 0.5, beta2: 0.5))
    fresh.firstMoment.assign(adam.firstMoment)
    fresh.secondMoment.assign(adam.secondMoment)
    fresh.restore(step: 4)
    reference.gradients[flat: 0] = 1
    adam.update(s)
    fresh.update(reference)
    #expect(s.values[flat: 0].bitPattern == reference.values[flat: 0].bitPattern)
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
