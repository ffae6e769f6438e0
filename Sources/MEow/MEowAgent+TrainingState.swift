import Foundation
import NN

/// Everything that decides what a `MEowAgent`'s next updates do, for checkpoints.
///
/// Weights alone do not resume a run exactly: Adam's moments and step count shape the
/// next steps, the target network is a separate Polyak average, and the dropout masks
/// come from the agent's own generator. The initialisation stream is not kept: it is
/// used up when the agent is built, and the weights it produced are in `online`.
/// Arrays are the flat parameter buffers (`flow.layout.scalarCount` scalars, alignment
/// padding included), so restoring is a plain copy.
public struct AgentTrainingState: Sendable, Equatable {
    /// The names, shapes and offsets the flat arrays follow; `restore` refuses another layout.
    public var layout: ParameterLayout
    /// θ, the online parameters.
    public var online: [Float]
    /// θ̄, the Polyak-averaged target parameters.
    public var target: [Float]
    /// Adam's first and second moment estimates.
    public var firstMoment: [Float]
    public var secondMoment: [Float]
    /// Adam's step counter (the t of its bias correction).
    public var optimizerStep: Int
    /// The generator of the coupling-dropout masks.
    public var dropoutRNG: Xoshiro256
    /// Successful updates (the policy version) and skipped ones.
    public var updateCount: Int
    public var skippedUpdates: Int

    public init(
        layout: ParameterLayout, online: [Float], target: [Float], firstMoment: [Float], secondMoment: [Float],
        optimizerStep: Int, dropoutRNG: Xoshiro256, updateCount: Int, skippedUpdates: Int
    ) {
        self.layout = layout
        self.online = online
        self.target = target
        self.firstMoment = firstMoment
        self.secondMoment = secondMoment
        self.optimizerStep = optimizerStep
        self.dropoutRNG = dropoutRNG
        self.updateCount = updateCount
        self.skippedUpdates = skippedUpdates
    }
}

/// Why a training state could not be restored or decoded; `part` names the piece.
public struct TrainingStateError: Error, Equatable, Sendable, CustomStringConvertible {
    /// "online", "target", "adam", "counters", ...
    public let part: String
    public let reason: String

    public init(part: String, reason: String) {
        self.part = part
        self.reason = reason
    }

    public var description: String { "\(part): \(reason)" }
}

/// The safetensors files of a training state.
public struct TrainingStateFiles: Sendable, Equatable {
    /// θ with the policy metadata (a valid policy file on its own).
    public var online: [UInt8]
    /// θ̄, same tensor names.
    public var target: [UInt8]
    /// `first_moment/<name>` and `second_moment/<name>` per parameter; metadata `step`.
    public var adam: [UInt8]

    public init(online: [UInt8], target: [UInt8], adam: [UInt8]) {
        self.online = online
        self.target = target
        self.adam = adam
    }
}

extension MEowAgent {
    /// A copy of the full training state.
    public func trainingState() -> AgentTrainingState {
        AgentTrainingState(
            layout: flow.layout, online: online.values.scalars, target: target.values.scalars,
            firstMoment: optimizer.firstMoment.scalars, secondMoment: optimizer.secondMoment.scalars,
            optimizerStep: optimizer.step, dropoutRNG: dropoutRNG, updateCount: updateCount,
            skippedUpdates: skippedUpdates)
    }

    /// Replaces the full training state; nothing changes unless every part fits this agent.
    public func restore(_ state: AgentTrainingState) throws(TrainingStateError) {
        guard state.layout == flow.layout else {
            throw TrainingStateError(
                part: "layout", reason: "the state's parameters (\(state.layout.parameterCount)) are not this agent's "
                    + "(\(flow.layout.parameterCount)): another architecture or dimensions")
        }
        let n = flow.layout.scalarCount
        for (part, values) in [
            ("online", state.online), ("target", state.target), ("adam first moment", state.firstMoment),
            ("adam second moment", state.secondMoment),
        ] where values.count != n {
            throw TrainingStateError(part: part, reason: "\(values.count) scalars, this agent has \(n)")
        }
        guard state.optimizerStep >= 0, state.updateCount >= 0, state.skippedUpdates >= 0 else {
            throw TrainingStateError(part: "counters", reason: "negative step or update count")
        }
        online.values.fill(from: state.online, "online")
        target.values.fill(from: state.target, "target")
        optimizer.firstMoment.fill(from: state.firstMoment, "first moment")
        optimizer.secondMoment.fill(from: state.secondMoment, "second moment")
        optimizer.restore(step: state.optimizerStep)
        dropoutRNG = state.dropoutRNG
        updateCount = state.updateCount
        skippedUpdates = state.skippedUpdates
    }

    // MARK: - Files

    /// The layout of adam.safetensors: both moments of every parameter, by name.
    var adamLayout: ParameterLayout {
        var layout = ParameterLayout()
        for prefix in ["first_moment/", "second_moment/"] {
            for slot in flow.layout.slots {
                _ = slot.isVector
                    ? layout.add(prefix + slot.name, count: slot.count)
                    : layout.add(prefix + slot.name, rows: slot.rows, cols: slot.cols)
            }
        }
        return layout
    }

    /// Encodes `state` as three safetensors files (online, target, Adam).
    public func encode(_ state: AgentTrainingState) -> TrainingStateFiles {
        let store = ParameterStore<Float>(layout: flow.layout)
        store.values.fill(from: state.online, "online")
        let onlineBytes = Safetensors.encode(store, metadata: policyMetadata)
        store.values.fill(from: state.target, "target")
        let targetBytes = Safetensors.encode(store, metadata: ["format": "meow-target"])

        let adamStore = ParameterStore<Float>(layout: adamLayout)
        copy(state.firstMoment, prefix: "first_moment/", into: adamStore)
        copy(state.secondMoment, prefix: "second_moment/", into: adamStore)
        let adamBytes = Safetensors.encode(
            adamStore, metadata: ["format": "meow-adam", "step": String(state.optimizerStep)])
        return TrainingStateFiles(online: onlineBytes, target: targetBytes, adam: adamBytes)
    }

    /// Decodes three files written by `encode`, checking every tensor against this agent.
    ///
    /// The generator and counters are not in the files (the checkpoint manifest keeps them).
    public func decode(
        _ files: TrainingStateFiles, dropoutRNG: Xoshiro256, updateCount: Int, skippedUpdates: Int
    ) throws(TrainingStateError) -> AgentTrainingState {
        let store = ParameterStore<Float>(layout: flow.layout)
        try decodeFile(files.online, part: "online", into: store)
        let onlineValues = store.values.scalars
        try decodeFile(files.target, part: "target", into: store)
        let targetValues = store.values.scalars

        let adamStore = ParameterStore<Float>(layout: adamLayout)
        try decodeFile(files.adam, part: "adam", into: adamStore)
        let metadata: [String: String]
        do {
            metadata = try MEowAgent.metadata(ofSafetensors: files.adam)
        } catch {
            throw TrainingStateError(part: "adam", reason: "\(error)")
        }
        guard let stepText = metadata["step"], let step = Int(stepText), step >= 0 else {
            throw TrainingStateError(part: "adam", reason: "metadata lacks a non-negative integer 'step'")
        }
        return AgentTrainingState(
            layout: flow.layout, online: onlineValues, target: targetValues,
            firstMoment: flat(adamStore, prefix: "first_moment/"), secondMoment: flat(adamStore, prefix: "second_moment/"),
            optimizerStep: step, dropoutRNG: dropoutRNG, updateCount: updateCount, skippedUpdates: skippedUpdates)
    }

    private func decodeFile(_ bytes: [UInt8], part: String, into store: ParameterStore<Float>) throws(TrainingStateError) {
        do {
            try Safetensors.decode(bytes, into: store)
        } catch {
            throw TrainingStateError(part: part, reason: "\(error)")
        }
    }

    /// Copies each parameter's range of the flat `values` into the `prefix` slots of `store`.
    private func copy(_ values: [Float], prefix: String, into store: ParameterStore<Float>) {
        for slot in flow.layout.slots {
            let destination = store.value(store.layout.slot(named: prefix + slot.name)!)
            destination.fill(from: Array(values[slot.offset..<slot.offset + slot.count]), slot.name)
        }
    }

    /// The flat buffer (padding zero) made of the `prefix` slots of `store`.
    private func flat(_ store: ParameterStore<Float>, prefix: String) -> [Float] {
        var values = [Float](repeating: 0, count: flow.layout.scalarCount)
        for slot in flow.layout.slots {
            let source = store.value(store.layout.slot(named: prefix + slot.name)!).scalars
            values.replaceSubrange(slot.offset..<slot.offset + slot.count, with: source)
        }
        return values
    }
}
