import Wire

/// Finished episodes peers reported (EPISODE_STATS): the recent returns for the stats file, and the
/// episodes the training thread has not yet written to metrics.
///
/// Both are bounded, oldest first out, so a peer that reports faster than metrics are written
/// cannot grow the learner.
public struct EpisodeBuffer: Sendable {
    /// Returns of the last `recentLimit` episodes.
    public private(set) var recentReturns: [Double] = []
    /// Episodes not yet taken, with the env step each arrived at.
    private var pending: [(step: Int, summary: EpisodeSummary)] = []
    public let recentLimit: Int
    public let pendingLimit: Int

    public init(recentLimit: Int = 100, pendingLimit: Int = 10_000) {
        precondition(recentLimit >= 1 && pendingLimit >= 1, "an episode buffer keeps at least one episode")
        self.recentLimit = recentLimit
        self.pendingLimit = pendingLimit
    }

    /// Mean of the recent returns; nil before the first episode.
    public var meanRecentReturn: Double? {
        recentReturns.isEmpty ? nil : recentReturns.reduce(0, +) / Double(recentReturns.count)
    }

    /// Adds `episodes`, which arrived when the run was at env step `step`.
    public mutating func record(_ episodes: [EpisodeSummary], atStep step: Int) {
        for episode in episodes {
            recentReturns.append(episode.episodeReturn)
            pending.append((step, episode))
        }
        if recentReturns.count > recentLimit { recentReturns.removeFirst(recentReturns.count - recentLimit) }
        if pending.count > pendingLimit { pending.removeFirst(pending.count - pendingLimit) }
    }

    /// Finished episodes since the last call, with the env step each arrived at.
    public mutating func take() -> [(step: Int, summary: EpisodeSummary)] {
        defer { pending.removeAll(keepingCapacity: true) }
        return pending
    }
}
