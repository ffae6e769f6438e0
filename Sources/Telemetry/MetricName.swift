/// The TensorBoard/CSV scalar tags, in one place.
///
/// The first group are the names the reference MEow code (CleanRL-style)
/// writes, spelled exactly the same so our curves overlay the paper's in one
/// TensorBoard. The others watch the health of the distributed system.
/// docs/metrics.md explains each; a test keeps that page and this list in step.
public enum MetricName {
    // MARK: - Reference names (must match the MEow/CleanRL code exactly)

    /// Undiscounted return of each finished training episode.
    public static let episodicReturn = "charts/episodic_return"
    /// Length in steps of each finished training episode.
    public static let episodicLength = "charts/episodic_length"
    /// Environment steps per second of wall time since the start.
    public static let stepsPerSecond = "charts/SPS"
    /// The soft Q (critic) loss of the latest update.
    public static let qfLoss = "losses/qf_loss"
    /// The entropy temperature alpha.
    public static let alpha = "losses/alpha"
    /// Mean return of the deterministic evaluation episodes.
    public static let testReturn = "Test/return"

    // MARK: - Ingest (actors -> learner)

    /// Transitions accepted into replay per second of wall time.
    public static let ingestTransitionsPerSecond = "ingest/transitions_per_second"
    /// Smallest policy-version lag among the last accepted transitions (per transition).
    public static let ingestStalenessMin = "ingest/staleness_min"
    /// Mean policy-version lag of the last accepted transitions.
    public static let ingestStalenessMean = "ingest/staleness_mean"
    /// Median policy-version lag of the last accepted transitions.
    public static let ingestStalenessP50 = "ingest/staleness_p50"
    /// 99th percentile of the policy-version lag of the last accepted transitions.
    public static let ingestStalenessP99 = "ingest/staleness_p99"
    /// Largest policy-version lag among the last accepted transitions.
    public static let ingestStalenessMax = "ingest/staleness_max"
    /// Batches refused so far because their policy was too old.
    public static let ingestDroppedStale = "ingest/dropped_stale"

    // MARK: - Rate limiter

    /// Seconds the learner spent blocked by the rate limiter since the start.
    public static let rateLimiterBlockedSeconds = "ratelimiter/blocked_seconds"

    // MARK: - Update health

    /// Updates skipped so far because the loss or a gradient was not finite.
    public static let lossesSkippedNonFinite = "losses/skipped_nonfinite"
    /// Mean soft value V(s) over the latest batch.
    public static let valuesVMean = "values/v_mean"
    /// Mean of the flow's log-scale outputs over the latest batch.
    public static let valuesLogSigmaMean = "values/log_sigma_mean"
    /// Smallest log-scale output over the latest batch.
    public static let valuesLogSigmaMin = "values/log_sigma_min"
    /// Largest log-scale output over the latest batch.
    public static let valuesLogSigmaMax = "values/log_sigma_max"

    // MARK: - System

    /// Transitions held in the replay buffer.
    public static let replaySize = "replay/size"
    /// Actors connected to the learner.
    public static let actorsConnected = "actors/connected"
    /// Version of the newest policy weights published to actors.
    public static let weightsVersion = "weights/version"
    // MARK: - Environment

    /// Episodes ended by an unstable simulation (NaN or huge accelerations); their last
    /// transitions were dropped, never stored (docs/mujoco.md).
    public static let unstableEpisodes = "charts/unstable_episodes"

    // MARK: - Text

    /// The run's configuration, as a markdown table (CleanRL's tag).
    public static let hyperparameters = "hyperparameters"

    // MARK: - Lists

    /// The reference names, in the order above.
    public static let reference = [
        episodicReturn, episodicLength, stepsPerSecond, qfLoss, alpha, testReturn,
    ]

    /// The distributed-health names, in the order above.
    public static let health = [
        ingestTransitionsPerSecond, ingestStalenessMin, ingestStalenessMean, ingestStalenessP50,
        ingestStalenessP99, ingestStalenessMax,
        ingestDroppedStale, rateLimiterBlockedSeconds, lossesSkippedNonFinite, valuesVMean,
        valuesLogSigmaMean, valuesLogSigmaMin, valuesLogSigmaMax, replaySize, actorsConnected,
        weightsVersion,
    ]

    /// The environment names, in the order above.
    public static let environment = [unstableEpisodes]

    /// Every scalar tag.
    public static let all = reference + health + environment
}
