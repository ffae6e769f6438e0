import Testing
@testable import MEow

// MARK: - Presets

@Test func presetsMatchTheOfficialTable() throws {
    // docs/algorithm.md §6.2: (α, τ, learning_starts, σ_max).
    let table: [(String, Float, Float, Int, Float)] = [
        ("hopper", 0.25, 0.005, 5_000, -0.3),
        ("halfcheetah", 0.25, 0.003, 10_000, 2.0),
        ("walker2d", 0.1, 0.005, 10_000, -0.3),
        ("ant", 0.05, 0.0001, 5_000, -0.3),
        ("humanoid", 0.125, 0.0005, 5_000, -0.3),
    ]
    for (name, alpha, tau, starts, sigmaMax) in table {
        let c = try #require(MEowConfig.preset(name))
        #expect(c.alpha == alpha && c.tau == tau && c.learningStarts == starts && c.logSigmaMax == sigmaMax, "\(name)")
        #expect(c.logSigmaMin == -5 && c.gamma == 0.99 && c.batchSize == 256 && c.learningRate == 1e-3)
        #expect(c.gradClip == 30 && c.bufferSize == 1_000_000)
        try c.validate()
    }
}

@Test func toyPresetUsesItsOwnSigmaRangeAndDiscount() throws {
    let c = try #require(MEowConfig.preset("MultiGoal"))
    #expect(c.alpha == 2.5 && c.gamma == 0.9 && c.tau == 0.0005)
    #expect(c.logSigmaMin == -2 && c.logSigmaMax == 1)
}

@Test func everyListedPresetExistsAndValidates() throws {
    for name in MEowConfig.presetNames {
        let c = try #require(MEowConfig.preset(name), "\(name)")
        try c.validate()
    }
    #expect(MEowConfig.preset("cartpole") == nil)
}

// MARK: - Validation

/// The field the first validation error names, or nil when the config is valid.
private func invalidField(_ c: MEowConfig) -> String? {
    do { try c.validate(); return nil } catch { return error.field }
}

@Test func validationNamesTheField() {
    var c = MEowConfig()
    c.tau = 0
    #expect(invalidField(c) == "tau")

    c = MEowConfig()
    c.rewardShift = false
    #expect(invalidField(c) == "clipped-double-q")
    c.clippedDoubleQ = false
    #expect(invalidField(c) == nil)

    c = MEowConfig()
    (c.logSigmaMin, c.logSigmaMax) = (0, -1)
    #expect(invalidField(c) == "log-sigma-min")

    c = MEowConfig()
    c.bufferSize = 10
    #expect(invalidField(c) == "buffer-size")
}
