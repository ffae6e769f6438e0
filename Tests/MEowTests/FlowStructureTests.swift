import Foundation
import Testing
@testable import MEow

// MARK: - Parameter counts (docs/algorithm.md §2.8)

@Test(arguments: [
    ("Hopper", 11, 3, 167_313), ("Walker2d", 17, 6, 174_048), ("Ant", 27, 8, 183_530), ("Humanoid", 376, 17, 479_127),
])
func parameterCountsMatchTheOfficialModules(env: String, ds: Int, d: Int, total: Int) {
    let flow = MEowFlow<Float>(config: MEowConfig(), observationDimension: ds, actionDimension: d)
    #expect(flow.layout.parameterCount == total, "\(env)")
}

@Test func hopperCountsSplitByModuleAsInTheTable() {
    let hopper = DoubleFlow(config: MEowConfig(), ds: 11, d: 3)
    #expect(hopper.parameterCount(prefix: "log_sigma_net.") == 5_251)
    #expect(hopper.parameterCount(prefix: "coupling") == 22_796)
    #expect(hopper.parameterCount(prefix: "reward_shift") == 139_266)
}

@Test func ablationsDropShiftHeads() {
    var c = MEowConfig()
    c.clippedDoubleQ = false
    let one = MEowFlow<Float>(config: c, observationDimension: 11, actionDimension: 3)
    #expect(one.rewardShifts.count == 1 && one.layout.parameterCount == 167_313 - 139_266 / 2)
    c.rewardShift = false
    let none = MEowFlow<Float>(config: c, observationDimension: 11, actionDimension: 3)
    #expect(none.rewardShifts.isEmpty && none.layout.parameterCount == 167_313 - 139_266)
}

@Test func tensorNamesExplainThemselves() {
    let names = Set(MEowFlow<Float>(config: MEowConfig(), observationDimension: 11, actionDimension: 3)
        .layout.slots.map(\.name))
    for name in ["log_sigma_net.layer0.weight", "log_sigma_net.layer1.swish.beta", "log_sigma_net.layer2.bias",
                 "coupling1.layer0.norm.gamma", "coupling1.layer0.swish.beta", "coupling4.layer1.norm.beta",
                 "reward_shift1.layer2.bias", "reward_shift2.layer0.weight"] {
        #expect(names.contains(name), "\(name)")
    }
    #expect(!names.contains("coupling5.layer0.weight") && !names.contains("reward_shift3.layer0.weight"))
    #expect(!names.contains("log_sigma_net.layer0.norm.gamma"), "h_σ has no LayerNorm (§2.8)")
}

// MARK: - Masks (§2.2)

@Test(arguments: [1, 2, 3, 6, 17])
func masksAlternateAndHaveCeilHalfOnes(d: Int) {
    let flow = MEowFlow<Double>(config: MEowConfig(), observationDimension: 2, actionDimension: d)
    let m = flow.conditioningMasks[0].scalars
    #expect(m == (0..<d).map { $0 % 2 == 0 ? 1 : 0 })
    #expect(Int(m.reduce(0, +)) == (d + 1) / 2)
    for k in 0..<4 {
        let expected = k % 2 == 0 ? m : m.map { 1 - $0 }
        #expect(flow.conditioningMasks[k].scalars == expected)
        #expect(zip(flow.conditioningMasks[k].scalars, flow.shiftedMasks[k].scalars).allSatisfy { $0 + $1 == 1 })
    }
}

// MARK: - Initialisation (§2.9) and its invariants (§8.5)

@Test func initialisationFollowsSection2_9() {
    let model = DoubleFlow(config: MEowConfig(), ds: 11, d: 3, seed: 7)
    let flow = model.flow, store = model.store
    for mlp in [flow.logSigmaNet] + flow.rewardShifts {
        for linear in mlp.hidden.map(\.linear) + [mlp.output] {
            #expect(store.value(linear.weight).scalars.allSatisfy { $0 == 0 }, "zero weights")
            let bound = 1 / Double(linear.inFeatures).squareRoot()
            let bias = store.value(linear.bias).scalars
            #expect(bias.allSatisfy { abs($0) <= bound } && bias.contains { $0 != 0 }, "PyTorch-default biases")
        }
    }
    for mlp in flow.couplings {
        for linear in mlp.hidden.map(\.linear) + [mlp.output] {
            let w = store.value(linear.weight)
            // Orthogonal with gain 1: W Wᵀ = I for wide, Wᵀ W = I for tall matrices.
            let wide = w.rows <= w.cols
            let n = wide ? w.rows : w.cols
            var worst = 0.0
            for i in 0..<n {
                for j in 0..<n {
                    let dot = (0..<(wide ? w.cols : w.rows)).reduce(0.0) { acc, k in
                        acc + (wide ? w[i, k] * w[j, k] : w[k, i] * w[k, j])
                    }
                    worst = max(worst, abs(dot - (i == j ? 1 : 0)))
                }
            }
            #expect(worst < 1e-12, "orthogonal weight \(linear.weight.name)")
        }
        for hidden in mlp.hidden {
            #expect(store.value(hidden.normGamma!).scalars.allSatisfy { $0 == 1 })
            #expect(store.value(hidden.normBeta!).scalars.allSatisfy { $0 == 0 })
        }
    }
    for mlp in [flow.logSigmaNet] + flow.couplings + flow.rewardShifts {
        for hidden in mlp.hidden { #expect(store.value(hidden.swishBeta).scalars.allSatisfy { $0 == 1 }, "Swish β = 1") }
    }
}

@Test func initialSigmaAndShiftsAreStateIndependentAndSmall() {
    let model = DoubleFlow(config: MEowConfig(), ds: 11, d: 3, seed: 3)
    let states: Tensor<Double> = uniformTensor(16, 11, -3...3, seed: 4)
    let tape = Tape<Double>(recording: false)
    let logSigma = model.flow.logSigma(tape.constant(states), store: model.store, tape: tape).value
    // §2.9: σ ≈ exp((σ_min + σ_max)/2) ≈ 0.07; h_σ's output is its last bias, |bias| ≤ 1/8.
    let half = (5 - 0.3) / 2.0
    for r in 0..<16 {
        for c in 0..<3 {
            #expect(logSigma[r, c] == logSigma[0, c], "state-independent")
            #expect(abs(logSigma[r, c] - (-2.65)) <= half * Foundation.tanh(0.125) + 1e-12)
        }
    }
    let sigma = (0..<3).map { Foundation.exp(logSigma[0, $0]) }
    #expect(sigma.allSatisfy { $0 > 0.05 && $0 < 0.095 }, "\(sigma)")
    // §8.5: |b| < 0.07; in fact b is the last bias, U(−1/16, 1/16), and the two heads differ.
    let shifts = model.flow.rewardShifts(tape.constant(states), store: model.store, tape: tape).map(\.value.scalars)
    #expect(shifts.count == 2)
    for b in shifts { #expect(b.allSatisfy { $0 == b[0] && abs($0) <= 1.0 / 16 }) }
    #expect(shifts[0][0] != shifts[1][0])
}

@Test func ablationLeavesTheOtherModulesInitialWeightsUnchanged() {
    var c = MEowConfig()
    let full = DoubleFlow(config: c, ds: 5, d: 2, seed: 9)
    c.clippedDoubleQ = false
    c.rewardShift = false
    let vanilla = DoubleFlow(config: c, ds: 5, d: 2, seed: 9)
    for slot in vanilla.flow.layout.slots {
        #expect(vanilla.store.value(slot).scalars == full.store.value(full.flow.layout.slot(named: slot.name)!).scalars)
    }
}
