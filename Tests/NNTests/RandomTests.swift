import Testing
@testable import NN

// MARK: - Determinism

@Test func sameSeedSameStream() {
    var a = Xoshiro256(seed: 42), b = Xoshiro256(seed: 42), c = Xoshiro256(seed: 43)
    let sa = (0..<100).map { _ in a.next() }, sb = (0..<100).map { _ in b.next() }, sc = (0..<100).map { _ in c.next() }
    #expect(sa == sb && sa != sc)
}

@Test func stateRoundTrips() {
    var a = Xoshiro256(seed: 7)
    _ = a.next()
    var b = Xoshiro256(state: a.state)!
    #expect((0..<10).map { _ in a.next() } == (0..<10).map { _ in b.next() })
    #expect(Xoshiro256(state: [0, 0, 0, 0]) == nil && Xoshiro256(state: [1, 2]) == nil)
}

// MARK: - Splitting

@Test func splitStreamsAreDeterministicAndIndependent() {
    var parent1 = Xoshiro256(seed: 1), parent2 = Xoshiro256(seed: 1)
    var child1 = parent1.split(), child2 = parent2.split()
    let c = (0..<1000).map { _ in child1.next() }
    #expect(c == (0..<1000).map { _ in child2.next() })
    let p = (0..<1000).map { _ in parent1.next() }
    #expect(Set(c).isDisjoint(with: p))
    // Uncorrelated: the correlation of uniform draws is near 0 (|r| < 4 / sqrt(n)).
    let x = c.map { Double($0 >> 11) * 0x1p-53 - 0.5 }, y = p.map { Double($0 >> 11) * 0x1p-53 - 0.5 }
    let xy: Double = zip(x, y).map(*).reduce(0, +)
    let xx: Double = x.map { $0 * $0 }.reduce(0, +), yy: Double = y.map { $0 * $0 }.reduce(0, +)
    let r = xy / (xx * yy).squareRoot()
    #expect(abs(r) < 4 / 1000.0.squareRoot())
    var grandchild = child1.split()
    #expect((0..<10).map { _ in grandchild.next() } != (0..<10).map { _ in parent1.next() })
}

// MARK: - Distributions

@Test func uniformAndNormalMoments() {
    var rng = Xoshiro256(seed: 9)
    let u = (0..<50_000).map { _ in rng.nextUniform(Float.self) }
    #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
    #expect(abs(u.reduce(0, +) / 50_000 - 0.5) < 0.01)
    let t = Tensor<Double>(zeros: 1, 50_001)
    Kernels.fillNormal(t, mean: 2, std: 3, rng: &rng)
    let n = t.scalars, mean = n.reduce(0, +) / 50_001
    let variance = n.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 50_000
    #expect(abs(mean - 2) < 0.05 && abs(variance - 9) < 0.2)
}
