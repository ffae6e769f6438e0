/// A simulated task with gymnasium's step semantics.
///
/// Observations and actions are flat `Float` vectors whose layout `observationSpace`
/// and `actionSpace` describe. Built-in environments are value types: one copy
/// belongs to one task, and `Sendable` lets that task be any task.
///
/// Episode end follows gymnasium (NOTES.md): `terminated` means the task reached an
/// absorbing state, so the learner must not bootstrap; `truncated` means the time
/// limit cut the episode short, so it must. Either way the returned observation is
/// the real last one, and the caller calls `reset` before stepping again.
public protocol Environment: Sendable {
    /// The box every observation lies in.
    var observationSpace: BoxSpace { get }

    /// The box of valid actions in the environment's own units.
    ///
    /// Policies act in [-1, 1]^d; `RescaleAction` maps those onto this box.
    var actionSpace: BoxSpace { get }

    /// The step count at which the episode is truncated (gymnasium's `TimeLimit`).
    var maxEpisodeSteps: Int { get }

    /// Steps taken since the last `reset`.
    var elapsedSteps: Int { get }

    /// Starts an episode and returns its first observation.
    ///
    /// With a seed the start state is a pure function of the seed; without one the
    /// environment's own generator continues where it stopped, as gymnasium's
    /// `np_random` does.
    mutating func reset(seed: UInt64?) -> [Float]

    /// Applies one action and advances the simulation by one step.
    ///
    /// `action.count` must equal `actionSpace.count`; out-of-bounds components are
    /// clipped to the action space as the gymnasium environments do.
    mutating func step(action: [Float]) -> StepResult
}

extension Environment {
    /// Starts an episode from the environment's own generator.
    public mutating func reset() -> [Float] {
        reset(seed: nil)
    }
}

/// The outcome of one `Environment.step`.
public struct StepResult: Sendable, Equatable {
    /// The observation after the step; on the last step of an episode, the real final one.
    public var observation: [Float]

    /// The reward for the transition, in the environment's float64 arithmetic.
    public var reward: Double

    /// The episode reached a terminal state: do not bootstrap from `observation`.
    public var terminated: Bool

    /// The time limit ended the episode: bootstrap from `observation` as usual.
    public var truncated: Bool

    /// Extra facts about the step that some environments report.
    public var info: StepInfo

    public init(
        observation: [Float], reward: Double, terminated: Bool, truncated: Bool,
        info: StepInfo = StepInfo()
    ) {
        self.observation = observation
        self.reward = reward
        self.terminated = terminated
        self.truncated = truncated
        self.info = info
    }

    /// True when the episode is over for either reason and the caller must reset.
    public var isLast: Bool { terminated || truncated }
}

/// Per-step extras, the typed counterpart of gymnasium's `info` dict.
public struct StepInfo: Sendable, Equatable {
    /// For goal-reaching tasks, the index of the goal reached on this step.
    ///
    /// `MultiGoal` sets it on the terminating step so a benchmark can count which of
    /// the goals the policy visits (the multimodality test of ALGORITHM.md 8.4).
    public var reachedGoal: Int?

    /// The physics simulation became unstable on this step (MuJoCo found a NaN or huge
    /// position, velocity, acceleration or control, or the state stopped being finite).
    ///
    /// The step then reports `terminated`, reward 0 and a finite but meaningless
    /// observation: the caller should drop the transition, count it, and reset.
    public var simulationUnstable: Bool

    public init(reachedGoal: Int? = nil, simulationUnstable: Bool = false) {
        self.reachedGoal = reachedGoal
        self.simulationUnstable = simulationUnstable
    }
}

/// Counts steps within an episode and reports truncation, like gymnasium's `TimeLimit`.
struct EpisodeClock: Sendable {
    /// The step count at which an episode is truncated.
    let maxSteps: Int

    /// Steps taken since the last restart.
    private(set) var elapsed = 0

    init(maxSteps: Int) {
        precondition(maxSteps > 0, "an episode needs at least one step, got maxSteps \(maxSteps)")
        self.maxSteps = maxSteps
    }

    mutating func restart() {
        elapsed = 0
    }

    /// Puts the clock back at `elapsed` steps (restoring a snapshot); false if out of range.
    mutating func restore(elapsed: Int) -> Bool {
        guard elapsed >= 0 && elapsed <= maxSteps else { return false }
        self.elapsed = elapsed
        return true
    }

    /// Counts one step and returns whether the time limit is now reached.
    mutating func tick() -> Bool {
        elapsed += 1
        return elapsed >= maxSteps
    }
}
