import Foundation
import Testing
@testable import MEow

/// A replay batch as the learner hands it over: row-major Float columns.
private struct ReplayBatch {
    var observations, actions, rewards, terminations, nextObservations: [Float]
    let count: Int

    init(count: Int, ds: Int, d: Int, seed: UInt64) {
        self.count = count
        observations = uniformTensor(count, ds, -2...2, seed: seed).scalars
        actions = uniformTensor(count, d, -1...1, seed: seed + 1).scalars
        rewards = uniformTensor(count, 1, -1...1, seed: seed + 2).scalars
        terminations = (0..<count).map { $0 % 4 == 0 ? 1 : 0 }
        nextObservations = uniformTensor(count, ds, -2...2, seed: seed + 3).scalars
    }

    func update(_ agent: MEowAgent) -> UpdateMetrics {
        agent.update(observations: observations, actions: actions, rewards: rewards, terminations: terminations,
                     nextObservations: nextObservations, count: count)
    }
}

private func hopperAgent(_ configure: (inout MEowConfig) -> Void = { _ in }) throws -> MEowAgent {
    var config = MEowConfig.preset("hopper")!
    configure(&config)
    return try MEowAgent(config: config, observationDimension: 11, actionDimension: 3)
}

// MARK: - Construction

@Test func constructionRejectsBadDimensionsAndConfigs() {
    #expect(throws: MEowConfigError.self) { try MEowAgent(config: MEowConfig(), observationDimension: 0, actionDimension: 3) }
    #expect(throws: MEowConfigError.self) { try MEowAgent(config: MEowConfig(), observationDimension: 3, actionDimension: 0) }
    var config = MEowConfig()
    config.alpha = -1
    #expect(throws: MEowConfigError.self) { try MEowAgent(config: config, observationDimension: 3, actionDimension: 1) }
}

@Test func targetStartsAsACopyAndTheSeedDecidesTheWeights() throws {
    let a = try hopperAgent(), b = try hopperAgent()
    #expect(a.online.values.scalars == a.target.values.scalars)
    #expect(a.online.values.scalars == b.online.values.scalars)
    let c = try hopperAgent { $0.seed = 2 }
    #expect(a.online.values.scalars != c.online.values.scalars)
}

// MARK: - One update (docs/algorithm.md §4.8)

@Test func updateStepsAdamAndPolyak() throws {
    let agent = try hopperAgent()
    let before = agent.online.values.copy(), targetBefore = agent.target.values.copy()
    let metrics = ReplayBatch(count: 32, ds: 11, d: 3, seed: 1).update(agent)
    #expect(!metrics.skipped && metrics.loss.isFinite && metrics.gradientNorm > 0)
    #expect(agent.updateCount == 1 && agent.skippedUpdates == 0 && agent.optimizer.step == 1)
    // Adam moved θ; Polyak moved θ̄ by exactly τ of the way (θ̄ = θ_old before the step).
    #expect(agent.online.values.scalars != before.scalars)
    let tau = agent.config.tau
    var worst: Float = 0
    for i in 0..<before.count {
        let expected = targetBefore[0, i] + tau * (agent.online.values[0, i] - targetBefore[0, i])
        worst = max(worst, abs(agent.target.values[0, i] - expected))
    }
    #expect(worst < 1e-6)
    #expect(agent.target.values.scalars != targetBefore.scalars)
}

@Test func nonFiniteLossSkipsTheStepAndCountsIt() throws {
    let agent = try hopperAgent()
    let online = agent.online.values.copy(), target = agent.target.values.copy()
    var batch = ReplayBatch(count: 16, ds: 11, d: 3, seed: 2)
    batch.rewards[5] = .nan
    let metrics = batch.update(agent)
    #expect(metrics.skipped && !metrics.loss.isFinite)
    #expect(agent.skippedUpdates == 1 && agent.updateCount == 0 && agent.optimizer.step == 0)
    #expect(agent.online.values.scalars == online.scalars && agent.target.values.scalars == target.scalars)
    // An infinite observation poisons the gradient the same way.
    batch = ReplayBatch(count: 16, ds: 11, d: 3, seed: 3)
    batch.observations[0] = .infinity
    #expect(batch.update(agent).skipped && agent.skippedUpdates == 2)
    #expect(agent.online.values.scalars == online.scalars)
    // And a normal batch afterwards trains again.
    #expect(!ReplayBatch(count: 16, ds: 11, d: 3, seed: 4).update(agent).skipped && agent.updateCount == 1)
}

@Test func gradientNormIsReportedBeforeClipping() throws {
    let agent = try hopperAgent()
    var batch = ReplayBatch(count: 16, ds: 11, d: 3, seed: 5)
    batch.rewards = batch.rewards.map { $0 * 1e4 }
    let metrics = batch.update(agent)
    #expect(metrics.gradientNorm > agent.config.gradClip)
    // What Adam consumed is the clipped gradient.
    #expect(agent.online.gradientNorm() <= Double(agent.config.gradClip) * 1.0001)
}

@Test func metricsDescribeTheBatch() throws {
    let agent = try hopperAgent()
    let batch = ReplayBatch(count: 32, ds: 11, d: 3, seed: 6)
    // Before the first step θ̄ = θ, so the target's V(s') is the online values().
    let nextValues = agent.values(observations: batch.nextObservations, count: 32)
    let metrics = batch.update(agent)
    #expect(abs(metrics.meanTargetV - nextValues.reduce(0, +) / 32) < 1e-5 * max(1, abs(metrics.meanTargetV)))
    let bounds = agent.config.logSigmaMin...agent.config.logSigmaMax
    #expect(bounds.contains(metrics.minLogSigma) && bounds.contains(metrics.maxLogSigma))
    #expect(metrics.minLogSigma <= metrics.meanLogSigma && metrics.meanLogSigma <= metrics.maxLogSigma)
    #expect(metrics.meanQ.isFinite && metrics.meanQ < 0, "random actions are unlikely under σ ≈ 0.07")
}

@Test func updatesAreReproducibleFromTheSeed() throws {
    let a = try hopperAgent(), b = try hopperAgent()
    for seed: UInt64 in [10, 20, 30] {
        let batch = ReplayBatch(count: 8, ds: 11, d: 3, seed: seed)
        #expect(batch.update(a) == batch.update(b))
    }
    #expect(a.online.values.scalars == b.online.values.scalars && a.target.values.scalars == b.target.values.scalars)
}

@Test(arguments: [(true, true), (true, false), (false, false)])
func ablationsTrain(rewardShift: Bool, clippedDoubleQ: Bool) throws {
    let agent = try hopperAgent { c in (c.rewardShift, c.clippedDoubleQ) = (rewardShift, clippedDoubleQ) }
    let metrics = ReplayBatch(count: 16, ds: 11, d: 3, seed: 7).update(agent)
    #expect(!metrics.skipped && metrics.loss.isFinite)
    #expect(agent.values(observations: [Float](repeating: 0.1, count: 11), count: 1)[0].isFinite)
}

// MARK: - Learning sanity

@Test func oneStepBanditPullsQTowardTheReward() throws {
    // Terminal transitions, so y = r = 5. The actions are the policy's own, yet the train-mode
    // Q starts far below (dropout moves u0 by more than σ ≈ 0.07); Q must climb to r.
    let agent = try hopperAgent { $0.learningRate = 1e-2 }
    var batch = ReplayBatch(count: 32, ds: 11, d: 3, seed: 8)
    var rng = Xoshiro256(seed: 9)
    batch.actions = agent.act(observations: batch.observations, count: 32, deterministic: false, rng: &rng)
    batch.rewards = [Float](repeating: 5, count: 32)
    batch.terminations = [Float](repeating: 1, count: 32)
    let first = batch.update(agent)
    var last = first
    for _ in 0..<20 { last = batch.update(agent) }
    #expect(abs(last.meanQ - 5) < 0.5 * abs(first.meanQ - 5), "Q \(first.meanQ) -> \(last.meanQ)")
    #expect(last.loss < 0.25 * first.loss)
}

// MARK: - Acting

@Test func actionsAreBoundedAndBatched() throws {
    let agent = try hopperAgent()
    let observations: [Float] = uniformTensor(64, 11, -3...3, seed: 11).scalars
    var rng = Xoshiro256(seed: 12)
    let batched = agent.act(observations: observations, count: 64, deterministic: false, rng: &rng)
    #expect(batched.count == 64 * 3 && batched.allSatisfy { $0 >= -1 && $0 <= 1 })
    #expect(agent.act(observations: [], count: 0, deterministic: false, rng: &rng).isEmpty)
    #expect(agent.values(observations: [], count: 0).isEmpty)
    // Row r of a deterministic batch is the action for observation r alone.
    let all = agent.act(observations: observations, count: 64, deterministic: true, rng: &rng)
    for r in [0, 17, 63] {
        let one = agent.act(observations: Array(observations[(r * 11)..<(r * 11 + 11)]), count: 1, deterministic: true,
                            rng: &rng)
        #expect(zip(one, all[(r * 3)..<(r * 3 + 3)]).allSatisfy { abs($0 - $1) < 1e-6 })
    }
}
