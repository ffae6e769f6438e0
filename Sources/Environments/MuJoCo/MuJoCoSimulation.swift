import CMuJoCo

/// One `mjData`, owned: made from a model, freed in deinit.
///
/// Only `MuJoCoSimulation` holds it, and it copies the data before writing unless it
/// is the sole owner, so no two environment values ever write the same `mjData`.
final class MuJoCoDataStorage: @unchecked Sendable {  // Written only when uniquely referenced (copy-on-write).
    let model: MuJoCoModel
    let pointer: UnsafeMutablePointer<mjData>

    init(model: MuJoCoModel) {
        guard let data = model.library.makeData(model.pointer) else {
            fatalError("MuJoCo could not allocate mjData for \(model.source): out of memory")
        }
        self.model = model
        self.pointer = data
    }

    /// A new `mjData` with the same contents (`mj_copyData`).
    func copy() -> MuJoCoDataStorage {
        let duplicate = MuJoCoDataStorage(model: model)
        _ = model.library.copyData(duplicate.pointer, model.pointer, pointer)
        return duplicate
    }

    deinit {
        model.library.deleteData(pointer)
    }
}

/// A MuJoCo model and one simulation state of it, with value semantics.
///
/// Copying a simulation shares the `mjData` until either copy changes it; then the
/// writer gets its own copy (`mj_copyData`). The model is shared and never written.
public struct MuJoCoSimulation: Sendable {
    /// The compiled model.
    public let model: MuJoCoModel
    private var storage: MuJoCoDataStorage

    /// A fresh simulation of `model` in its reference configuration (`qpos0`, zero velocity).
    public init(model: MuJoCoModel) {
        self.model = model
        self.storage = MuJoCoDataStorage(model: model)
    }

    /// The data for reading; never written through.
    var data: UnsafeMutablePointer<mjData> { storage.pointer }

    /// The data for writing, copied first if another value shares it.
    private mutating func writableData() -> UnsafeMutablePointer<mjData> {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage.pointer
    }

    private var library: MuJoCoLibrary { model.library }

    // MARK: - State

    /// Generalised positions, `nq` values.
    public var qpos: [Double] { Self.read(data.pointee.qpos, model.nq) }
    /// Generalised velocities, `nv` values.
    public var qvel: [Double] { Self.read(data.pointee.qvel, model.nv) }
    /// Actuator activations, `na` values (none in the built-in models).
    public var act: [Double] { Self.read(data.pointee.act, model.na) }
    /// The constraint solver's warm start, `nv` values; part of the exact state.
    public var qaccWarmstart: [Double] { Self.read(data.pointee.qacc_warmstart, model.nv) }
    /// Simulated time in seconds.
    public var time: Double { data.pointee.time }

    /// Whether every position and velocity is finite.
    public var stateIsFinite: Bool {
        let d = data.pointee
        return (0..<model.nq).allSatisfy { d.qpos[$0].isFinite } && (0..<model.nv).allSatisfy { d.qvel[$0].isFinite }
    }

    /// `count` values from a MuJoCo array.
    static func read(_ pointer: UnsafeMutablePointer<mjtNum>?, _ count: Int) -> [Double] {
        guard let pointer, count > 0 else { return [] }
        return Array(UnsafeBufferPointer(start: pointer, count: count))
    }

    private static func write(_ values: [Double], to pointer: UnsafeMutablePointer<mjtNum>?, count: Int) {
        precondition(values.count == count, "expected \(count) values, got \(values.count)")
        guard let pointer, count > 0 else { return }
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }

    /// Puts the data back to the model's reference state (`mj_resetData`): time 0, warm start 0.
    public mutating func resetData() {
        library.resetData(model.pointer, writableData())
    }

    /// Sets positions and velocities and recomputes derived quantities (`mj_forward`),
    /// gymnasium's `set_state`.
    public mutating func setState(qpos: [Double], qvel: [Double]) {
        let d = writableData()
        Self.write(qpos, to: d.pointee.qpos, count: model.nq)
        Self.write(qvel, to: d.pointee.qvel, count: model.nv)
        forward(d)
    }

    /// Restores the whole integration state exactly.
    ///
    /// `mj_forward` brings the derived quantities up to date, but it may also normalise
    /// quaternions in `qpos` and overwrite the solver's warm start; the saved values are
    /// written again afterwards so that the next `mj_step` starts from exactly them.
    mutating func restore(qpos: [Double], qvel: [Double], act: [Double], qaccWarmstart: [Double], time: Double) {
        let d = writableData()
        func write() {
            Self.write(qpos, to: d.pointee.qpos, count: model.nq)
            Self.write(qvel, to: d.pointee.qvel, count: model.nv)
            Self.write(act, to: d.pointee.act, count: model.na)
            Self.write(qaccWarmstart, to: d.pointee.qacc_warmstart, count: model.nv)
            d.pointee.time = time
        }
        write()
        forward(d)
        write()
    }

    // MARK: - Stepping

    /// The warnings that mean the simulation blew up; MuJoCo resets mjData after each.
    private static let instabilityWarnings = [mjWARN_BADQPOS, mjWARN_BADQVEL, mjWARN_BADQACC, mjWARN_BADCTRL]

    /// Sets the controls and advances `frames` timesteps (gymnasium's `do_simulation`).
    ///
    /// `control` is written to `ctrl` as given (float32 widened to float64); MuJoCo
    /// clamps it to each actuator's `ctrlrange`. With `computeContactForces`,
    /// `mj_rnePostConstraint` fills `cfrc_ext` afterwards, as gymnasium does.
    ///
    /// Returns false if the simulation became unstable: MuJoCo flagged a NaN or huge
    /// position, velocity, acceleration or control (and reset the data), raised a fatal
    /// error (e.g. its stack overflowed), or the state is no longer finite. Stepping
    /// stops there, and a state that is not usable is reset so that whatever is read
    /// next is finite. MuJoCo's warning counters are cleared either way.
    public mutating func advance(control: [Float], frames: Int, computeContactForces: Bool) -> Bool {
        precondition(control.count == model.nu, "expected \(model.nu) controls, got \(control.count)")
        let d = writableData()
        let ctrl = d.pointee.ctrl!
        for i in 0..<control.count { ctrl[i] = Double(control[i]) }
        let fatal = library.guarded(library.step, model.pointer, d, times: frames) { Self.warnedOfInstability($0!) ? 1 : 0 }
        var stable = fatal == nil && !Self.warnedOfInstability(d) && stateIsFinite
        if stable && computeContactForces {
            stable = library.guarded(library.rnePostConstraint, model.pointer, d) == nil
        }
        if !stable && (fatal != nil || !stateIsFinite) { resetToReference(d) }
        Self.clearWarnings(d)
        return stable
    }

    /// `mj_forward` under the fatal-error guard; a state MuJoCo cannot compute is reset.
    private func forward(_ d: UnsafeMutablePointer<mjData>) {
        if library.guarded(library.forward, model.pointer, d) != nil { resetToReference(d) }
    }

    /// `mj_resetData` then `mj_forward`: the model's reference state, fully computed.
    private func resetToReference(_ d: UnsafeMutablePointer<mjData>) {
        library.resetData(model.pointer, d)
        _ = library.guarded(library.forward, model.pointer, d)
    }

    /// Whether MuJoCo raised an instability warning since the counters were last cleared.
    private static func warnedOfInstability(_ d: UnsafeMutablePointer<mjData>) -> Bool {
        withUnsafeMutableBytes(of: &d.pointee.warning) { raw in
            let warnings = raw.bindMemory(to: mjWarningStat.self)
            return instabilityWarnings.contains { warnings[Int($0.rawValue)].number > 0 }
        }
    }

    /// Zeroes every warning counter, so that the next step's warnings are its own.
    private static func clearWarnings(_ d: UnsafeMutablePointer<mjData>) {
        withUnsafeMutableBytes(of: &d.pointee.warning) { raw in
            let warnings = raw.bindMemory(to: mjWarningStat.self)
            for i in warnings.indices { warnings[i] = mjWarningStat(lastinfo: 0, number: 0) }
        }
    }
}
