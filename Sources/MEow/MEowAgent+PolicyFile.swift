import Foundation
import NN

/// Why a policy file's metadata cannot be read by this build; names the file.
public enum PolicyFormatError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `format_version` is newer than this build's, or not a version at all.
    case unknownVersion(path: String, version: String)
    /// `format` names another kind of file.
    case notAPolicy(path: String, format: String)

    public var description: String {
        switch self {
        case let .unknownVersion(path, version):
            "policy file \(path) has format_version '\(version)', which this build does not know (it reads "
                + "versions up to \(PolicyFileMetadata.currentFormatVersion)); use a newer meow"
        case let .notAPolicy(path, format):
            "\(path) is not a policy file: its metadata field 'format' is '\(format)', a policy's is "
                + "'\(MEowAgent.policyFormat)'"
        }
    }
}

/// A policy file's metadata, read once for every reader: `fromPolicyFile` (`meow act`),
/// `SavedPolicy` (`meow evaluate`) and `loadPolicy`.
///
/// `format_version` says how the tensors and the metadata are to be read
/// (docs/checkpoints.md). A file without it was written before versions were recorded and
/// is version 1; a newer or unparseable version is refused with the file's name, never
/// guessed at. A file without `format` is read as far as its metadata goes (loading the
/// weights checks it).
public struct PolicyFileMetadata: Sendable, Equatable {
    /// The newest version this build reads; `savePolicy` writes it.
    public static let currentFormatVersion = 1

    /// Every `__metadata__` entry as written.
    public let entries: [String: String]
    /// The file's format version (1 when the file records none).
    public let formatVersion: Int

    /// Checks the `__metadata__` entries of the file at `path`.
    public init(entries: [String: String], path: String) throws(PolicyFormatError) {
        if let format = entries["format"], format != MEowAgent.policyFormat {
            throw .notAPolicy(path: path, format: format)
        }
        let text = entries["format_version"] ?? "1"
        guard let version = Int(text), (1...Self.currentFormatVersion).contains(version) else {
            throw .unknownVersion(path: path, version: text)
        }
        self.entries = entries
        formatVersion = version
    }

    /// The metadata of the safetensors file at `path`, and the file's bytes (which the caller loads next).
    public static func read(_ path: String) throws -> (metadata: PolicyFileMetadata, bytes: [UInt8]) {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw MEowError.fileAccess(path: path, reason: fileErrorReason(error))
        }
        return (try PolicyFileMetadata(entries: try MEowAgent.metadata(ofSafetensors: bytes), path: path), bytes)
    }

    /// The dimensions the weights were built for, when recorded.
    public var observationDimension: Int? { entries["observation_dimension"].flatMap { Int($0) } }
    public var actionDimension: Int? { entries["action_dimension"].flatMap { Int($0) } }
}

extension MEowAgent {
    // MARK: - A policy file on its own

    /// An agent rebuilt from a policy file alone, for deploying a policy without its run.
    ///
    /// The dimensions, α, the σ bounds, the number of couplings and of reward-shift heads come
    /// from the file's metadata (`policyMetadata`), the hidden widths from its tensor shapes
    /// (`log_sigma_net.layer0.weight` is [flow_hidden, ds], `reward_shift1.layer0.weight`
    /// [shift_hidden, ds]); then the weights are loaded as `loadPolicy` does. Training-only
    /// settings (dropout, learning rate, ...) keep their defaults: acting and the values are
    /// in eval mode and do not read them.
    public static func fromPolicyFile(_ path: String) throws -> MEowAgent {
        let (metadata, bytes) = try PolicyFileMetadata.read(path)
        guard metadata.entries["format"] == policyFormat else {
            throw MEowError.metadataMismatch(key: "format", expected: policyFormat, found: metadata.entries["format"] ?? "")
        }
        func number<T: LosslessStringConvertible>(_ key: String, _: T.Type) throws -> T {
            guard let text = metadata.entries[key], let value = T(text) else {
                throw MEowError.metadataMismatch(key: key, expected: "a number", found: metadata.entries[key] ?? "")
            }
            return value
        }
        let observationDimension = try number("observation_dimension", Int.self)
        let actionDimension = try number("action_dimension", Int.self)
        let heads = try number("reward_shift_heads", Int.self)
        guard (0...2).contains(heads) else {
            throw MEowError.metadataMismatch(key: "reward_shift_heads", expected: "0, 1 or 2", found: String(heads))
        }
        var config = MEowConfig()
        config.alpha = try number("alpha", Float.self)
        config.logSigmaMin = try number("log_sigma_min", Float.self)
        config.logSigmaMax = try number("log_sigma_max", Float.self)
        config.couplingLayers = try number("coupling_layers", Int.self)
        config.rewardShift = heads > 0
        config.clippedDoubleQ = heads == 2
        let shapes = try tensorShapes(ofSafetensors: bytes)
        config.flowHidden = try hiddenWidth("log_sigma_net.layer0.weight", shapes)
        if heads > 0 { config.shiftHidden = try hiddenWidth("reward_shift1.layer0.weight", shapes) }
        // A MEowConfigError here names the setting (e.g. log-sigma-max) that the file holds out of range.
        let agent = try MEowAgent(config: config, observationDimension: observationDimension,
                                  actionDimension: actionDimension)
        try agent.loadPolicy(from: path)
        return agent
    }

    /// The rows of a hidden layer's [out, in] weight: the MLP's width.
    private static func hiddenWidth(_ name: String, _ shapes: [String: [Int]]) throws -> Int {
        guard let shape = shapes[name], shape.count == 2, shape[0] > 0 else {
            throw MEowError.missingTensor(name: name)
        }
        return shape[0]
    }

    /// Each tensor's shape, from a safetensors header (the metadata entry left out).
    static func tensorShapes(ofSafetensors bytes: [UInt8]) throws -> [String: [Int]] {
        var shapes: [String: [Int]] = [:]
        for (name, entry) in try header(ofSafetensors: bytes) where name != "__metadata__" {
            guard let fields = entry as? [String: Any], let shape = fields["shape"] as? [Any] else {
                throw MEowError.safetensors(.invalidHeader(reason: "entry \(name) has no shape"))
            }
            shapes[name] = shape.compactMap { ($0 as? NSNumber)?.intValue }
        }
        return shapes
    }

    // MARK: - Soft Q

    /// Soft Q(s, a) = min_j Q_j(s, a) for `count` rows (docs/algorithm.md §3.1), eval mode, no gradient.
    ///
    /// Observations are row-major [count × ds], actions [count × d] in [−1, 1] (clamped to
    /// ±(1 − 1e−5) before atanh, §2.5). The min over the heads matches `values`, so
    /// Q(s, a) − V(s) = α log π(a|s) holds with one head, and with two whenever one head is the
    /// smaller for both.
    public func qValues(observations: [Float], actions: [Float], count: Int) -> [Float] {
        if count == 0 { return [] }
        let tape = inferenceTape
        tape.reset()
        let states = tape.constant(inputTensor(observations, count, observationDimension, "observations"))
        let chosen = tape.constant(inputTensor(actions, count, actionDimension, "actions"))
        var evalMode: Xoshiro256? = nil
        let density = flow.density(states: states, actions: chosen, store: online, tape: tape, dropout: &evalMode)
        let heads = flow.softQ(kernel: density.kernel, shifts: flow.rewardShifts(states, store: online, tape: tape),
                               tape: tape)
        var q = heads[0]
        for head in heads.dropFirst() { q = tape.minimum(q, head) }
        return q.value.scalars
    }
}
