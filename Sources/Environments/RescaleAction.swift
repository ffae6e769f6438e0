/// Presents an environment's actions as [-1, 1]^d, the range MEow's policy acts in.
///
/// Each action is mapped affinely onto the wrapped environment's action box and
/// clipped to it (`BoxSpace.scale(fromUnit:)`), like gymnasium's RescaleAction in
/// front of an environment that clips its own actions. Everything else passes through.
public struct RescaleAction<Base: Environment>: Environment {
    /// The wrapped environment.
    public private(set) var base: Base

    public init(_ base: Base) {
        self.base = base
    }

    public var observationSpace: BoxSpace { base.observationSpace }

    /// [-1, 1]^d with the wrapped action space's shape.
    public var actionSpace: BoxSpace { base.actionSpace.unitBox }

    public var maxEpisodeSteps: Int { base.maxEpisodeSteps }

    public var elapsedSteps: Int { base.elapsedSteps }

    public mutating func reset(seed: UInt64?) -> [Float] {
        base.reset(seed: seed)
    }

    public mutating func step(action: [Float]) -> StepResult {
        base.step(action: base.actionSpace.scale(fromUnit: action))
    }
}

extension Environment {
    /// This environment behind a [-1, 1]^d action interface.
    public func rescaledToUnitActions() -> RescaleAction<Self> {
        RescaleAction(self)
    }
}

extension RescaleAction: SnapshotEnvironment where Base: SnapshotEnvironment {
    public func snapshot() -> EnvironmentSnapshot { base.snapshot() }

    public mutating func restore(_ snapshot: EnvironmentSnapshot) throws(EnvironmentError) {
        try base.restore(snapshot)
    }
}
