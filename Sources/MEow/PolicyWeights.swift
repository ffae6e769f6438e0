import Foundation
import NN

/// One named float32 tensor, as it travels in WEIGHTS messages and safetensors files.
public struct NamedTensor: Sendable, Equatable {
    public var name: String
    /// [out, in] for weights, [n] for biases, norms and Swish betas (PyTorch's shapes).
    public var shape: [Int]
    /// Row-major values, shape.reduce(1, *) of them.
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// Why a set of policy weights could not replace an agent's.
///
/// Nothing is written unless every tensor has been checked, so a failed load
/// leaves the agent's weights as they were.
public enum MEowError: Error, Equatable, Sendable {
    /// A parameter of the agent is absent from the tensors given.
    case missingTensor(name: String)
    /// A tensor the agent does not have (another architecture or ablation).
    case unexpectedTensor(name: String)
    /// The same name appears twice.
    case duplicateTensor(name: String)
    /// A tensor's shape differs from the agent's.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// A tensor holds a different number of values than its shape says.
    case valueCountMismatch(name: String, shape: [Int], count: Int)
    /// The file's metadata says it is not a policy for this agent (`key` names what differs).
    case metadataMismatch(key: String, expected: String, found: String)
    /// The file is not valid safetensors or does not fit the agent's parameters.
    case safetensors(SafetensorsError)
    /// The file could not be read or written.
    case fileAccess(path: String, reason: String)
}

extension MEowError: CustomStringConvertible {
    /// What does not fit, in words; the caller names the file.
    public var description: String {
        switch self {
        case let .missingTensor(name): "the weights lack tensor '\(name)'"
        case let .unexpectedTensor(name): "the weights have a tensor '\(name)' this policy does not (another architecture?)"
        case let .duplicateTensor(name): "tensor '\(name)' appears twice"
        case let .shapeMismatch(name, expected, found):
            "tensor '\(name)' has shape \(found), this policy needs \(expected) (another architecture?)"
        case let .valueCountMismatch(name, shape, count):
            "tensor '\(name)' holds \(count) values, its shape \(shape) says \(shape.reduce(1, *))"
        case let .metadataMismatch(key, expected, found):
            "its metadata field '\(key)' is \(found.isEmpty ? "missing" : "'\(found)'"), this policy needs '\(expected)'"
        case let .safetensors(error): error.description
        case let .fileAccess(path, reason): "\(path) cannot be read or written: \(reason)"
        }
    }
}

extension MEowAgent {
    /// Identifies the file kind in the safetensors metadata.
    public static let policyFormat = "meow-policy"
    /// Bumped when tensor names or meanings change (`PolicyFileMetadata` reads it).
    public static let policyFormatVersion = String(PolicyFileMetadata.currentFormatVersion)

    // MARK: - Tensors

    /// The online policy's weights (everything `act` needs: flow, h_σ, shift heads), self-explaining names.
    public func policyTensors() -> [NamedTensor] {
        flow.layout.slots.map { slot in
            NamedTensor(name: slot.name, shape: slot.savedShape, values: online.value(slot).scalars)
        }
    }

    /// Replaces the online weights; names and shapes must match exactly (a typed error otherwise).
    ///
    /// The target network is left alone (actors have no use for it); call
    /// `synchronizeTarget()` to continue training from the loaded weights.
    public func loadPolicyTensors(_ tensors: [NamedTensor]) throws {
        var byName: [String: NamedTensor] = [:]
        for tensor in tensors {
            guard byName.updateValue(tensor, forKey: tensor.name) == nil else {
                throw MEowError.duplicateTensor(name: tensor.name)
            }
        }
        for slot in flow.layout.slots {
            guard let tensor = byName.removeValue(forKey: slot.name) else { throw MEowError.missingTensor(name: slot.name) }
            guard tensor.shape == slot.savedShape else {
                throw MEowError.shapeMismatch(name: slot.name, expected: slot.savedShape, found: tensor.shape)
            }
            guard tensor.values.count == slot.count else {
                throw MEowError.valueCountMismatch(name: slot.name, shape: tensor.shape, count: tensor.values.count)
            }
        }
        if let extra = byName.keys.sorted().first { throw MEowError.unexpectedTensor(name: extra) }
        for tensor in tensors {
            online.value(flow.layout.slot(named: tensor.name)!).fill(from: tensor.values, tensor.name)
        }
    }

    // MARK: - Files

    /// What the policy file records besides the tensors: enough to rebuild and check the flow,
    /// and (through `provenance`) the environment it acts in, so `meow evaluate` needs no flags.
    public var policyMetadata: [String: String] {
        [
            "format": MEowAgent.policyFormat,
            "format_version": MEowAgent.policyFormatVersion,
            "observation_dimension": String(observationDimension),
            "action_dimension": String(actionDimension),
            "alpha": String(config.alpha),
            "log_sigma_min": String(config.logSigmaMin),
            "log_sigma_max": String(config.logSigmaMax),
            "coupling_layers": String(config.couplingLayers),
            "flow_hidden": String(config.flowHidden),
            "shift_hidden": String(config.shiftHidden),
            "reward_shift_heads": String(flow.rewardShifts.count),
        ].merging(provenance) { own, _ in own }
    }

    /// Saves the online policy as safetensors (float32, Python's `safetensors` opens it).
    public func savePolicy(to path: String) throws {
        try savePolicy(to: path, extraMetadata: [:])
    }

    /// Saves the online policy with `extra` metadata entries beside the flow's own (which win).
    public func savePolicy(to path: String, extraMetadata extra: [String: String]) throws {
        do {
            try Safetensors.save(online, to: URL(fileURLWithPath: path),
                                 metadata: extra.merging(policyMetadata) { _, own in own })
        } catch {
            throw MEowError.fileAccess(path: path, reason: fileErrorReason(error))
        }
    }

    /// Loads a policy file written by `savePolicy` into the online weights.
    ///
    /// The metadata must name this format and version and agree on the dimensions
    /// and the σ bounds (which change the policy); α may differ, as it does not
    /// change the actions. Tensor names, dtypes and shapes must match exactly.
    public func loadPolicy(from path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw MEowError.fileAccess(path: path, reason: fileErrorReason(error))
        }
        let found = try PolicyFileMetadata(entries: try MEowAgent.metadata(ofSafetensors: bytes), path: path).entries
        let expected = policyMetadata
        for key in ["format", "observation_dimension", "action_dimension", "log_sigma_min",
                    "log_sigma_max", "coupling_layers", "reward_shift_heads"] {
            let value = found[key] ?? ""
            let same = key.hasPrefix("log_sigma") ? Float(value) == Float(expected[key]!) : value == expected[key]
            if !same { throw MEowError.metadataMismatch(key: key, expected: expected[key]!, found: value) }
        }
        do {
            try Safetensors.decode(bytes, into: online)
        } catch let error as SafetensorsError {
            throw MEowError.safetensors(error)
        }
    }

    /// The `__metadata__` map of a safetensors file (empty when it has none).
    public static func metadata(ofSafetensors bytes: [UInt8]) throws -> [String: String] {
        guard let metadata = try header(ofSafetensors: bytes)["__metadata__"] else { return [:] }
        guard let map = metadata as? [String: String] else {
            throw MEowError.safetensors(.invalidHeader(reason: "__metadata__ is not a map of strings"))
        }
        return map
    }

    /// The JSON header of a safetensors file, its length checked before anything is read.
    static func header(ofSafetensors bytes: [UInt8]) throws -> [String: Any] {
        guard bytes.count >= 8 else { throw MEowError.safetensors(.truncated(needed: 8, available: bytes.count)) }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(Safetensors.maximumHeaderLength) else {
            throw MEowError.safetensors(.headerTooLarge(length: length, maximum: Safetensors.maximumHeaderLength))
        }
        let end = 8 + Int(length)
        guard bytes.count >= end else { throw MEowError.safetensors(.truncated(needed: end, available: bytes.count)) }
        guard let header = try? JSONSerialization.jsonObject(with: Data(bytes[8..<end])) as? [String: Any] else {
            throw MEowError.safetensors(.invalidHeader(reason: "not a JSON object"))
        }
        return header
    }
}
