/// The 2-D multi-goal toy of the MEow paper (docs/algorithm.md §6.4, softlearning's MultiGoal).
///
/// A point moves by its action each step, `s' = clip(s + a, ±7)`, starting near
/// the origin (`N(0, 0.1²)` per coordinate). Four goals sit at (5, 0), (-5, 0),
/// (0, 5) and (0, -5). The reward `-(30‖a‖² + min_g ‖s' - g‖²)` pulls towards the
/// nearest goal; coming within distance 1 of one adds 10 and terminates. With four
/// equally good goals the optimal max-entropy policy is multimodal, which is what the
/// toy shows. `StepInfo.reachedGoal` names the goal on the terminating step.
public struct MultiGoal: Environment {
    /// The goal positions, in the order their indices in `StepInfo.reachedGoal` refer to.
    public static let goals: [SIMD2<Double>] = [[5, 0], [-5, 0], [0, 5], [0, -5]]
    /// Coming strictly closer than this to a goal reaches it.
    public static let goalThreshold = 1.0
    /// The bonus for reaching a goal.
    public static let goalReward = 10.0
    /// The weight of `‖a‖²` in the cost.
    public static let actionCostCoefficient: Float = 30.0
    /// The weight of the squared distance to the nearest goal in the cost.
    public static let distanceCostCoefficient = 1.0
    /// Positions are clipped to [-bound, bound] in each coordinate.
    public static let positionBound = 7.0
    /// Actions (velocities) are clipped to [-bound, bound] in each coordinate.
    public static let velocityBound: Float = 1.0
    /// The standard deviation of each start coordinate around the origin.
    public static let initialSigma = 0.1

    /// The point's position, float64 as in the reference implementation.
    public private(set) var position: SIMD2<Double> = .zero

    private var clock: EpisodeClock
    private var generator: EnvironmentGenerator

    /// A multi-goal toy truncated after `maxEpisodeSteps` steps (1000 in the paper's setup).
    public init(maxEpisodeSteps: Int = 1000) {
        self.clock = EpisodeClock(maxSteps: maxEpisodeSteps)
        self.generator = .fromEntropy()
    }

    public let observationSpace = BoxSpace(
        shape: [2], low: Float(-positionBound), high: Float(positionBound))

    public let actionSpace = BoxSpace(shape: [2], low: -velocityBound, high: velocityBound)

    public var maxEpisodeSteps: Int { clock.maxSteps }

    public var elapsedSteps: Int { clock.elapsed }

    public mutating func reset(seed: UInt64?) -> [Float] {
        if let seed { generator = EnvironmentGenerator(seed: seed) }
        clock.restart()
        // numpy's `np_random.normal(0, initialSigma, size=2)` from a seeded Generator.
        // softlearning draws from numpy's global legacy generator, which no seed can match.
        let x = Self.initialSigma * generator.standardNormal()
        let y = Self.initialSigma * generator.standardNormal()
        setState(position: [x, y])
        return observation
    }

    /// Places the point at `position` (clipped to the arena) without touching the step count.
    public mutating func setState(position: SIMD2<Double>) {
        let bound = Self.positionBound
        self.position = position.clamped(lowerBound: [-bound, -bound], upperBound: [bound, bound])
    }

    public mutating func step(action: [Float]) -> StepResult {
        precondition(action.count == 2, "MultiGoal takes 2 action components, got \(action.count)")
        let bound = Self.velocityBound
        let ax = min(max(action[0], -bound), bound)
        let ay = min(max(action[1], -bound), bound)
        setState(position: position + [Double(ax), Double(ay)])

        // The reference computes the action cost on the float32 action.
        let actionCost = Double(Self.actionCostCoefficient * (ax * ax + ay * ay))
        let nearest = Self.nearestGoal(to: position)
        var reward = -(actionCost + Self.distanceCostCoefficient * nearest.squaredDistance)
        let terminated = nearest.squaredDistance.squareRoot() < Self.goalThreshold
        if terminated { reward += Self.goalReward }

        let truncated = clock.tick()
        return StepResult(
            observation: observation, reward: reward, terminated: terminated, truncated: truncated,
            info: StepInfo(reachedGoal: terminated ? nearest.index : nil))
    }

    /// The float32 observation of the current position.
    public var observation: [Float] {
        [Float(position.x), Float(position.y)]
    }

    /// The goal closest to `point` and the squared distance to it.
    public static func nearestGoal(to point: SIMD2<Double>) -> (index: Int, squaredDistance: Double) {
        var best = (index: 0, squaredDistance: Double.infinity)
        for (index, goal) in goals.enumerated() {
            let d = point - goal
            let squared = (d * d).sum()
            if squared < best.squaredDistance { best = (index, squared) }
        }
        return best
    }
}

extension MultiGoal: SnapshotEnvironment {
    public func snapshot() -> EnvironmentSnapshot {
        EnvironmentSnapshot(
            kind: "multigoal", values: ["x": position.x, "y": position.y], elapsedSteps: clock.elapsed,
            generator: generator.state)
    }

    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        let point = SIMD2(try snapshot.value("x"), try snapshot.value("y"))
        generator = try snapshot.restoreCommon(expectedKind: "multigoal", clock: &clock)
        setState(position: point)
    }
}
