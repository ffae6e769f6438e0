import MEow
import Replay

// MERGE: this file is the only place that names `MEowAgent`. On a branch where the agent
// does not exist yet, the `#else` branch keeps the package building and makes
// `DefaultAgent.make` throw `LearningError.agentUnavailable`. Once Sources/MEow has
// `MEowAgent` (AGENT_CONTRACT.md), change `#if false` to `#if true` (or delete the `#if`,
// the `#else` branch and the `#endif`).
#if true

extension MEowAgent: TrainableAgent {
    public func update(batch: TransitionBatch) -> UpdateStatistics {
        let m = update(
            observations: batch.observations, actions: batch.actions, rewards: batch.rewards,
            terminations: batch.terminations, nextObservations: batch.nextObservations, count: batch.count)
        return UpdateStatistics(
            loss: m.loss, gradientNorm: m.gradientNorm, skipped: m.skipped, meanQ: m.meanQ,
            meanTargetV: m.meanTargetV, meanLogSigma: m.meanLogSigma, minLogSigma: m.minLogSigma,
            maxLogSigma: m.maxLogSigma)
    }
}

/// Builds the agent that `meow train` and `meow evaluate` use.
public enum DefaultAgent {
    /// A fresh `MEowAgent` for these dimensions, initialised from `config.seed`.
    public static func make(
        config: MEowConfig, observationDimension: Int, actionDimension: Int
    ) throws -> any TrainableAgent {
        try MEowAgent(config: config, observationDimension: observationDimension, actionDimension: actionDimension)
    }
}

#else

/// Builds the agent that `meow train` and `meow evaluate` use.
public enum DefaultAgent {
    /// Throws `LearningError.agentUnavailable`: this build has no `MEowAgent` yet.
    public static func make(
        config: MEowConfig, observationDimension: Int, actionDimension: Int
    ) throws -> any TrainableAgent {
        throw LearningError.agentUnavailable
    }
}

#endif
