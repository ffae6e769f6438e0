import MEow
import Telemetry

/// Tags the trainer and the learner log beyond `MetricName` (docs/metrics.md).
public enum TrainerMetricName {
    /// Global gradient norm before clipping, of the latest update.
    public static let gradientNorm = "losses/grad_norm"
    /// Mean Q₁(s, a) over the latest batch.
    public static let meanQ = "values/q"
    /// Mean min_j V̄_j(s') over the latest batch: the bootstrapped target value.
    public static let meanTargetV = "values/target_v"
}

extension ScalarLogger {
    /// The loss-type scalars of one update, named as the reference code names them.
    ///
    /// Shared by the single-process trainer and the learner service so their curves overlay.
    public func logUpdate(_ s: UpdateMetrics, alpha: Float, skippedUpdates: Int, step: Int) {
        log(tag: MetricName.qfLoss, value: s.loss, step: step)
        log(tag: MetricName.alpha, value: alpha, step: step)
        log(tag: TrainerMetricName.gradientNorm, value: s.gradientNorm, step: step)
        log(tag: TrainerMetricName.meanQ, value: s.meanQ, step: step)
        log(tag: TrainerMetricName.meanTargetV, value: s.meanTargetV, step: step)
        log(tag: MetricName.valuesLogSigmaMean, value: s.meanLogSigma, step: step)
        log(tag: MetricName.valuesLogSigmaMin, value: s.minLogSigma, step: step)
        log(tag: MetricName.valuesLogSigmaMax, value: s.maxLogSigma, step: step)
        log(tag: MetricName.lossesSkippedNonFinite, value: Float(skippedUpdates), step: step)
    }
}
