import CMuJoCo

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The built-in MJCF models, embedded as strings so that binaries stand alone.
///
/// Each model lives in its own file under `MuJoCo/Models/` as a static `String`.
public enum MuJoCoModels {}

/// A compiled MuJoCo model (`mjModel`), freed when the last environment using it is gone.
///
/// Environments share one model: MuJoCo only reads it while stepping (every call takes
/// `const mjModel*`), so copies of an environment and other threads may use it at once.
public final class MuJoCoModel: @unchecked Sendable {  // mjModel is never written after compilation.
    /// The entry points this model was loaded with.
    let library: MuJoCoLibrary
    /// The compiled model; owned, freed in deinit.
    let pointer: UnsafeMutablePointer<mjModel>
    /// Where the model came from, for messages: a file path or "the built-in hopper model".
    public let source: String

    private init(library: MuJoCoLibrary, pointer: UnsafeMutablePointer<mjModel>, source: String) {
        self.library = library
        self.pointer = pointer
        self.source = source
    }

    deinit {
        library.deleteModel(pointer)
    }

    /// Loads and compiles the MJCF file at `path`.
    ///
    /// A file MuJoCo cannot read or compile throws `.modelLoadFailed` with MuJoCo's own text.
    public static func load(path: String) throws(MuJoCoError) -> MuJoCoModel {
        let library = try MuJoCoLibrary.shared()
        return try compile(library: library, fileName: path, vfs: nil, source: path)
    }

    /// Compiles MJCF text held in memory, through MuJoCo's virtual file system.
    ///
    /// `source` names the model in error messages.
    public static func load(xml: String, source: String) throws(MuJoCoError) -> MuJoCoModel {
        let library = try MuJoCoLibrary.shared()
        let fileName = "model.xml"
        let bytes = Array(xml.utf8)
        // The VFS is a 2 MB struct: on the heap, emptied by mj_defaultVFS, freed after loading.
        guard let vfs = malloc(MeowMjVFSSize) else {
            throw .modelLoadFailed(source: source, message: "out of memory for the virtual file system")
        }
        defer { free(vfs) }
        library.defaultVFS(vfs)
        defer { library.deleteVFS(vfs) }
        guard library.makeEmptyFileVFS(vfs, fileName, Int32(bytes.count)) == 0 else {
            throw .modelLoadFailed(source: source, message: "the virtual file system refused the model text")
        }
        let index = Int(library.findFileVFS(vfs, fileName))
        let fileData = (vfs + MeowMjVFSFileDataOffset).assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        guard index >= 0, let destination = fileData[index] else {
            throw .modelLoadFailed(source: source, message: "the virtual file system lost the model text")
        }
        bytes.withUnsafeBytes { destination.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return try compile(library: library, fileName: fileName, vfs: vfs, source: source)
    }

    private static func compile(
        library: MuJoCoLibrary, fileName: String, vfs: UnsafeRawPointer?, source: String
    ) throws(MuJoCoError) -> MuJoCoModel {
        var error = [CChar](repeating: 0, count: 1024)
        let model = library.compileLock.withLock {
            error.withUnsafeMutableBufferPointer { buffer in
                library.loadXML(fileName, vfs, buffer.baseAddress, Int32(buffer.count))
            }
        }
        guard let model else {
            let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw .modelLoadFailed(source: source, message: message.isEmpty ? "MuJoCo gave no reason" : message)
        }
        return MuJoCoModel(library: library, pointer: model, source: source)
    }

    // MARK: - Sizes and ranges

    /// Number of generalised coordinates.
    public var nq: Int { Int(pointer.pointee.nq) }
    /// Number of degrees of freedom.
    public var nv: Int { Int(pointer.pointee.nv) }
    /// Number of actuators (controls).
    public var nu: Int { Int(pointer.pointee.nu) }
    /// Number of actuator activations.
    public var na: Int { Int(pointer.pointee.na) }
    /// Number of bodies, the world body included.
    public var nbody: Int { Int(pointer.pointee.nbody) }
    /// The simulation timestep in seconds (`opt.timestep`).
    public var timestep: Double { pointer.pointee.opt.timestep }

    /// Each actuator's control range, or nil for an actuator without `ctrllimited`.
    public var controlRanges: [ClosedRange<Double>?] {
        let m = pointer.pointee
        return (0..<nu).map { i in
            let (low, high) = (m.actuator_ctrlrange[2 * i], m.actuator_ctrlrange[2 * i + 1])
            guard m.actuator_ctrllimited[i] != 0, low.isFinite, high.isFinite, low <= high else { return nil }
            return low...high
        }
    }

    /// The model's body masses, world body first.
    public var bodyMasses: [Double] {
        Array(UnsafeBufferPointer(start: pointer.pointee.body_mass, count: nbody))
    }

    /// The index of the body called `name`, or nil.
    public func bodyID(named name: String) -> Int? {
        let id = library.name2id(pointer, Int32(mjOBJ_BODY.rawValue), name)
        return id >= 0 ? Int(id) : nil
    }
}
