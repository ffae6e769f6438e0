import Foundation
import MEow
import Testing

@testable import Learning

@Suite struct ConfigResolutionTests {
    // MARK: - Presets and overrides

    @Test func presetsResolveByNameOrGymnasiumID() throws {
        let byName = try ConfigResolver.resolve(environmentName: "pendulum", overrides: ConfigOverrides())
        let byID = try ConfigResolver.resolve(environmentName: "Pendulum-v1", overrides: ConfigOverrides())
        #expect(byName.environmentName == "pendulum" && byID.environmentName == "pendulum")
        #expect(byName.config == MEowConfig.preset("pendulum"))
        #expect(byID.config == byName.config)
    }

    @Test func everyOverrideReplacesItsField() {
        var o = ConfigOverrides()
        (o.alpha, o.gamma, o.tau, o.logSigmaMin, o.logSigmaMax) = (0.5, 0.9, 0.01, -4, 1)
        (o.flowHidden, o.shiftHidden, o.couplingLayers, o.couplingDropout) = (32, 128, 2, 0.2)
        (o.rewardShift, o.clippedDoubleQ, o.learningRate, o.gradClip) = (false, false, 3e-4, 10)
        (o.batchSize, o.bufferSize, o.learningStarts, o.updatesPerStep) = (64, 5000, 100, 2)
        (o.totalSteps, o.evalEvery, o.evalEpisodes, o.deterministicEval, o.seed) = (777, 50, 3, false, 42)

        var expected = MEowConfig()
        (expected.alpha, expected.gamma, expected.tau, expected.logSigmaMin, expected.logSigmaMax) = (0.5, 0.9, 0.01, -4, 1)
        (expected.flowHidden, expected.shiftHidden, expected.couplingLayers, expected.couplingDropout) = (32, 128, 2, 0.2)
        (expected.rewardShift, expected.clippedDoubleQ, expected.learningRate, expected.gradClip) = (false, false, 3e-4, 10)
        (expected.batchSize, expected.bufferSize, expected.learningStarts, expected.updatesPerStep) = (64, 5000, 100, 2)
        (expected.totalSteps, expected.evalEvery, expected.evalEpisodes, expected.deterministicEval) = (777, 50, 3, false)
        expected.seed = 42
        #expect(o.applied(to: MEowConfig()) == expected)
        #expect(ConfigOverrides().applied(to: expected) == expected, "empty overrides change nothing")
    }

    // MARK: - One-sentence errors

    /// The message of the error `overrides` on the pendulum preset produce.
    static func message(_ overrides: ConfigOverrides, environment: String = "pendulum") -> String? {
        do {
            _ = try ConfigResolver.resolve(environmentName: environment, overrides: overrides)
            return nil
        } catch {
            return error.description
        }
    }

    static func isOneSentence(_ text: String) -> Bool {
        text.hasSuffix(".") && !text.contains("\n") && text.first?.isUppercase == true
    }

    @Test func invalidValuesNameTheFlagToChange() throws {
        var tau = ConfigOverrides()
        tau.tau = 0
        let tauMessage = try #require(Self.message(tau))
        #expect(tauMessage.hasPrefix("Invalid --tau: expected a Polyak rate in (0, 1]"))
        #expect(tauMessage.hasSuffix("change --tau."))
        #expect(Self.isOneSentence(tauMessage))

        var steps = ConfigOverrides()
        steps.totalSteps = 0
        #expect(Self.message(steps)?.hasSuffix("change --steps.") == true, "total-steps is the --steps flag")

        var scdq = ConfigOverrides()
        scdq.rewardShift = false
        #expect(Self.message(scdq)?.hasPrefix("Invalid --clipped-double-q:") == true)
        scdq.clippedDoubleQ = false
        #expect(Self.message(scdq) == nil, "Vanilla MEow without SCDQ is valid")
    }

    @Test func unknownEnvironmentsListTheChoices() throws {
        let unknown = try #require(Self.message(ConfigOverrides(), environment: "cartpole"))
        #expect(unknown == "Unknown environment 'cartpole': pass --env with one of pendulum, mountaincar, multigoal, "
            + "hopper, walker2d, halfcheetah, ant, humanoid.")
        #expect(Self.isOneSentence(unknown))
        // The MuJoCo tasks are built in: each resolves to its preset.
        for name in ["hopper", "Walker2d-v4", "halfcheetah", "ant", "Humanoid-v4"] {
            #expect(Self.message(ConfigOverrides(), environment: name) == nil, "\(name)")
        }
    }

    // MARK: - Saved runs

    @Test func aSavedRunsConfigWinsOverThePreset() throws {
        let directory = temporaryRunDirectory()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var trained = try #require(MEowConfig.preset("pendulum"))
        trained.flowHidden = 16
        try RunDirectory.writeJSON(trained, to: directory.appendingPathComponent(RunFiles.config))
        let policy = directory.appendingPathComponent(RunFiles.policy).path

        var overrides = ConfigOverrides()
        overrides.seed = 9
        let resolved = try ConfigResolver.resolve(
            policyPath: policy, environmentName: "pendulum", overrides: overrides)
        trained.seed = 9
        #expect(resolved.config == trained)

        let elsewhere = temporaryRunDirectory().appendingPathComponent(RunFiles.policy).path
        let fallback = try ConfigResolver.resolve(
            policyPath: elsewhere, environmentName: "pendulum", overrides: ConfigOverrides())
        #expect(fallback.config == MEowConfig.preset("pendulum"))
    }
}
