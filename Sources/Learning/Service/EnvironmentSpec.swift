import Environments
import Simulators
import Wire

/// The environment a learner trains on, and the spaces it accepts from peers.
///
/// `external` is a run whose environment only simulators (or actors) know: it has no shape
/// of its own, so the first peer's HELLO fixes the spaces, whatever their shape within the
/// protocol limits, and every later peer must match them. Its hyperparameters are the
/// defaults of `MEowConfig` (or the config file's and the flags').
///
/// Built-in environments know their spaces, so the learner fixes them at start-up; the
/// MuJoCo tasks are built in too (v4 layouts: Ant has 27 elements) wherever MuJoCo loads.
/// On a learner host without MuJoCo they fall back to their presets: the learner then
/// adopts the spaces of the first HELLO that fits the preset (Ant-v4's 27 or Ant-v5's
/// 105, say) and holds every later peer to them, and evaluates nothing itself.
public struct EnvironmentSpec: Sendable, Equatable {
    /// The canonical name (`pendulum`, `hopper`).
    public let name: String
    /// The gymnasium id WELCOME names.
    public let envID: String
    /// The spaces, when known before any peer says HELLO.
    public let spaces: AgreedSpaces?
    /// Observation sizes a preset allows; empty for built-in environments.
    public let allowedObservationSizes: [Int]
    /// Action size of a preset; 0 for built-in environments.
    public let presetActionSize: Int
    /// Why a MuJoCo task fell back to its preset (MuJoCo did not load), for the start-up log.
    public var fallbackReason: String? = nil
    /// Any shape is accepted from the first peer (`external`).
    public var acceptsAnyShape = false

    /// The name of the environment-less run.
    public static let externalName = "external"

    /// A run whose spaces come from the first peer's HELLO, or from `recorded` (a resumed run).
    public static func external(spaces recorded: AgreedSpaces? = nil) -> EnvironmentSpec {
        var spec = EnvironmentSpec(name: externalName, envID: "", spaces: recorded, allowedObservationSizes: [],
                                   presetActionSize: 0)
        spec.acceptsAnyShape = true
        return spec
    }

    /// Whether the learner needs a peer's HELLO to build its networks.
    public var waitsForFirstPeer: Bool { spaces == nil }

    /// This spec with the spaces a resumed run recorded; refused when they do not fit it.
    public func resumed(with recorded: AgreedSpaces) throws(LearnerError) -> EnvironmentSpec {
        if let spaces {
            if let reason = spaces.mismatch(observation: recorded.observation, action: recorded.action) {
                throw .checkpoint(.incompatible(reason: "the recorded \(reason)"))
            }
            return self
        }
        if let reason = presetMismatch(observation: recorded.observation, action: recorded.action) {
            throw .checkpoint(.incompatible(reason: "the recorded spaces do not fit: \(reason)"))
        }
        return EnvironmentSpec(name: name, envID: envID, spaces: recorded, allowedObservationSizes: allowedObservationSizes,
                               presetActionSize: presetActionSize, fallbackReason: fallbackReason,
                               acceptsAnyShape: acceptsAnyShape)
    }

    /// MuJoCo presets: (name, gymnasium id, observation sizes across v4/v5, action size).
    static let presets: [(String, String, [Int], Int)] = [
        ("hopper", "Hopper-v4", [11], 3),
        ("halfcheetah", "HalfCheetah-v4", [17], 6),
        ("walker2d", "Walker2d-v4", [17], 6),
        ("ant", "Ant-v4", [27, 105], 8),
        ("humanoid", "Humanoid-v4", [376, 348], 17),
    ]

    /// Every name `resolve` accepts.
    public static var names: [String] {
        EnvironmentRegistry.names + presets.map(\.0).filter { !EnvironmentRegistry.names.contains($0) } + [externalName]
    }

    /// The spec for a built-in environment or preset name (case-insensitive).
    ///
    /// `modelPath` replaces a MuJoCo task's built-in model; a model that does not load or fit
    /// is an error, while a host without MuJoCo falls back to the task's preset.
    public static func resolve(_ name: String, modelPath: String? = nil) throws(LearnerError) -> EnvironmentSpec {
        let key = name.lowercased()
        if key == externalName { return external() }
        guard let entry = try? EnvironmentRegistry.entry(named: key) else {
            guard let spec = preset(key) else { throw .unknownEnvironment(name: name, known: names) }
            return spec
        }
        let environment: any Environment
        do {
            environment = try EnvironmentRegistry.makeEnvironment(name: entry.name, modelPath: modelPath)
        } catch {
            if case let .mujoco(.libraryUnavailable(reason)) = error, var spec = preset(key), modelPath == nil {
                spec.fallbackReason = reason
                return spec
            }
            throw .environment(error.description)
        }
        let spaces = AgreedSpaces(observation: Space(environment.observationSpace),
                                  action: Space(environment.actionSpace))
        return EnvironmentSpec(name: entry.name, envID: entry.gymnasiumID, spaces: spaces,
                               allowedObservationSizes: [], presetActionSize: 0)
    }

    /// The spec of a MuJoCo task as a preset: spaces adopted from the first HELLO that fits.
    /// What a learner without MuJoCo runs; nil for names without a preset.
    public static func preset(_ name: String) -> EnvironmentSpec? {
        let key = name.lowercased()
        guard let preset = presets.first(where: { $0.0 == key || $0.1.lowercased() == key }) else { return nil }
        return EnvironmentSpec(name: preset.0, envID: preset.1, spaces: nil,
                               allowedObservationSizes: preset.2, presetActionSize: preset.3)
    }

    /// Whether a peer's HELLO `env_id` names the environment this learner trains on (PROTOCOL.md 5.1).
    ///
    /// Empty names nothing and matches. Otherwise the learner's preset name (`hopper`) or its env id
    /// with or without the version suffix (`Hopper-v4`, `Hopper-v5`, `hopper`) matches, case aside:
    /// versions of one task differ in dynamics details, and their spaces are compared on their own.
    /// `learnerEnvID` is the id WELCOME names now; an empty one (a learner that takes its
    /// environment from its first peer) matches every peer.
    public func envIDMatches(_ peer: String, learnerEnvID: String) -> Bool {
        guard !peer.isEmpty, !learnerEnvID.isEmpty else { return true }
        let family = Self.family(peer)
        return family == name.lowercased() || family == Self.family(learnerEnvID) || family == Self.family(envID)
    }

    /// An env id without its `-vN` suffix, lowercased.
    static func family(_ id: String) -> String {
        var id = id.lowercased()
        if let dash = id.lastIndex(of: "-"), id[id.index(after: dash)...].first == "v",
           id[id.index(dash, offsetBy: 2)...].allSatisfy(\.isNumber), id.index(dash, offsetBy: 2) < id.endIndex {
            id = String(id[..<dash])
        }
        return id
    }

    /// Whether the spaces of a HELLO fit a preset; nil when they do, else the reason.
    func presetMismatch(observation: Space, action: Space) -> String? {
        if acceptsAnyShape { return nil }
        if !allowedObservationSizes.contains(observation.elementCount) {
            return "the \(name) preset expects an observation of "
                + allowedObservationSizes.map(String.init).joined(separator: " or ")
                + " elements, the peer sent \(observation.elementCount)"
        }
        if action.elementCount != presetActionSize {
            return "the \(name) preset expects an action of \(presetActionSize) elements, "
                + "the peer sent \(action.elementCount)"
        }
        return nil
    }
}

extension AgreedSpaces {
    /// The spaces as config.json, checkpoints and the policy's metadata record them.
    public var record: RecordedSpaces {
        RecordedSpaces(observation: SpaceRecord(shape: observation.shape, low: observation.low, high: observation.high),
                       action: SpaceRecord(shape: action.shape, low: action.low, high: action.high))
    }

    /// Spaces read back from a record; nil when the record is inconsistent (bounds that do not
    /// match the shape, `low > high`, non-finite bounds, an empty dimension).
    public init?(_ record: RecordedSpaces) {
        func space(_ r: SpaceRecord) -> Space? {
            let count = r.shape.reduce(1) { $0 * max(0, $1) }
            guard r.shape.allSatisfy({ $0 >= 1 }), r.low.count == count, r.high.count == count,
                  zip(r.low, r.high).allSatisfy({ $0.isFinite && $1.isFinite && $0 <= $1 }) else { return nil }
            return Space(shape: r.shape, low: r.low, high: r.high)
        }
        guard let observation = space(record.observation), let action = space(record.action) else { return nil }
        self.init(observation: observation, action: action)
    }
}

extension Space {
    /// The wire form of an environment's box: infinite bounds travel as ±Float.greatestFiniteMagnitude.
    public init(_ box: BoxSpace) {
        let limit = Float.greatestFiniteMagnitude
        self.init(shape: box.shape, low: box.low.map { max($0, -limit) }, high: box.high.map { min($0, limit) })
    }
}
