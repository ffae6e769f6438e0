import Replay
import Wire

/// One ACTION_REQUEST after `SimulatorEpisodes.handle`: what to act on and what to store.
///
/// The learner stores `transitions`, runs ONE batched act call on `observations`
/// (`actingRows.count` rows of `observationDimension`), and hands the actions to
/// `SimulatorEpisodes.complete`, which builds the reply. Splitting the work this way keeps the
/// episode bookkeeping free of the policy, and lets the service batch several requests' rows
/// into one forward pass if it wants to.
public struct PreparedRequest: Sendable {
    /// The simulator session the request came from.
    public let session: UInt64
    /// The request id of the frame, the key of the resend cache.
    public let requestID: UInt32
    /// Rows in the request (and in the reply).
    public let rowCount: Int
    public let observationDimension: Int
    public let actionDimension: Int
    /// Evaluation: the policy's mean action, not a sample.
    public let deterministic: Bool
    /// The simulator asked for V(s) per row.
    public let wantValues: Bool
    /// A resend of a request already handled: nothing was stored for it (again).
    public let isDuplicate: Bool
    /// Request rows that need an action (`START` and `STEP`), in request order.
    public let actingRows: [Int]
    /// The episode of each acting row.
    public let actingEpisodeIDs: [UInt64]
    /// Observations of `actingRows`, row-major: `actingRows.count * observationDimension`.
    public let observations: [Float]
    /// Transitions completed by this request, to insert into replay; empty for a duplicate.
    public let transitions: Replay.TransitionBatch
    /// Per transition: its episode, as the request named it (replay keeps no episode ids, but
    /// TRANSITIONS, the write-ahead log and the ingest path do).
    public let transitionEpisodeIDs: [UInt64]
    /// Per transition: its index within its episode, counting from 0.
    public let transitionStepIndices: [UInt32]
    /// Per transition: the done flags of the END row that closed it (TERMINATED, TRUNCATED), else 0.
    public let transitionDoneFlags: [UInt8]
    /// Episodes this request ended (`END` rows of known episodes).
    public let endedEpisodes: [EndedEpisode]
    /// The reply to replay for a resend whose original was already answered.
    let cachedReply: ActionReply?

    /// Rows the act call must produce actions for.
    public var actingCount: Int { actingRows.count }
}

/// An episode that an `END` row closed, for logs and diagnostics.
///
/// EPISODE_STATS stays the source of the learning curves (the simulator knows its seeds and may
/// leave runs out of the curves); these figures are what the learner saw, which can be fewer
/// steps when the episode began before a learner restart.
public struct EndedEpisode: Sendable, Equatable {
    public let session: UInt64
    public let episodeID: UInt64
    /// Steps the learner saw rewarded.
    public let length: Int
    /// Sum of those rewards.
    public let episodeReturn: Double
    /// From the episode's first row to its `END` row.
    public let duration: Duration
    /// The `END` row's flags; empty when the episode was ended with an action outstanding.
    public let doneFlags: DoneFlags

    public init(session: UInt64, episodeID: UInt64, length: Int, episodeReturn: Double, duration: Duration,
                doneFlags: DoneFlags) {
        self.session = session
        self.episodeID = episodeID
        self.length = length
        self.episodeReturn = episodeReturn
        self.duration = duration
        self.doneFlags = doneFlags
    }
}

/// What one call of `SimulatorEpisodes.evict(olderThan:now:)` forgot.
public struct EvictionReport: Sendable, Equatable {
    /// Sessions silent for longer than the timeout, with all their episodes.
    public var sessions = 0
    /// Episodes forgotten, those of evicted sessions included.
    public var episodes = 0

    public init(sessions: Int = 0, episodes: Int = 0) {
        self.sessions = sessions
        self.episodes = episodes
    }
}

/// Bounds on what simulators may make the learner remember.
public struct SimulatorLimits: Sendable, Equatable {
    /// Simulator sessions served at once.
    public var maxSessions: Int
    /// Episodes one session may run at once (a vector environment's width, with some slack).
    public var maxEpisodesPerSession: Int

    public init(maxSessions: Int = 64, maxEpisodesPerSession: Int = 4096) {
        self.maxSessions = maxSessions
        self.maxEpisodesPerSession = maxEpisodesPerSession
    }
}

/// Totals since the component was made, for metrics and progress lines.
public struct SimulatorCounters: Sendable, Equatable {
    /// `START` rows, and `STEP` rows of episodes the learner did not know.
    public var episodesStarted = 0
    /// `END` rows of known episodes.
    public var episodesEnded = 0
    /// Episodes forgotten without an `END` row: silent too long, or their session said GOODBYE.
    public var episodesEvicted = 0
    /// Sessions forgotten because they fell silent.
    public var sessionsEvicted = 0
    /// Transitions handed out for replay.
    public var transitionsBuilt = 0
    /// Resent requests answered from the cache or without storing again.
    public var duplicateRequests = 0
    /// Rows of replies built by `complete` (duplicates not counted).
    public var rowsServed = 0
    /// `STEP` or done `END` rows with no recorded action to pair with, so no transition.
    public var stepsWithoutAction = 0
    /// `END` rows naming an episode the learner does not know.
    public var endsIgnored = 0

    public init() {}
}
