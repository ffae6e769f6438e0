import CMuJoCo

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Errors from loading MuJoCo or building a MuJoCo environment.
public enum MuJoCoError: Error, Equatable, CustomStringConvertible {
    /// No MuJoCo 2.2.2 library could be opened; `reason` is the loader's (`dlerror`) text.
    case libraryUnavailable(reason: String)
    /// An MJCF file or built-in model failed to load; `message` is MuJoCo's own error text.
    case modelLoadFailed(source: String, message: String)
    /// The model loaded but does not fit the task (sizes, action ranges, named bodies).
    case modelMismatch(task: String, source: String, reason: String)

    public var description: String {
        switch self {
        case let .libraryUnavailable(reason):
            "MuJoCo could not be loaded (\(reason)). Install Debian's libmujoco-dev: apt-get install libmujoco-dev"
        case let .modelLoadFailed(source, message):
            "the MuJoCo model \(source) could not be loaded: \(Self.oneLine(message))"
        case let .modelMismatch(task, source, reason):
            "the MuJoCo model \(source) does not fit the \(task) task: \(reason)"
        }
    }

    /// MuJoCo's multi-line messages folded into one sentence.
    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingSpaces() }.filter { !$0.isEmpty }
            .joined(separator: " ")
    }
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}

/// The MuJoCo entry points, resolved from `libmujoco` at run time.
///
/// The library is opened with `dlopen` rather than linked so that every other
/// environment works on a machine without MuJoCo, and so that a missing library is
/// reported in our words with the package that provides it. Only the ABI the
/// CMuJoCo headers describe (2.2.2) is accepted: the structs are read in place.
/// Opening happens once per process; `shared` caches the outcome.
public final class MuJoCoLibrary: Sendable {
    /// The MuJoCo version whose headers CMuJoCo includes (`mjVERSION_HEADER`).
    public static let headerVersion: Int32 = 222
    /// Library names tried in order.
    public static let defaultLibraryNames = ["libmujoco.so.2.2.2", "libmujoco.so"]

    /// The file that was opened.
    public let library: String
    /// `mj_version()`, e.g. 222.
    public let version: Int32
    /// The version as MuJoCo prints it, e.g. "2.2.2".
    public var versionString: String { "\(version / 100).\(version / 10 % 10).\(version % 10)" }
    /// One line for a start-up log: "MuJoCo 2.2.2 (libmujoco.so.2.2.2)".
    public var summary: String { "MuJoCo \(versionString) (\(library))" }

    /// Held while a model compiles: MuJoCo's compiler swaps the process-wide error and
    /// warning hooks for its own and puts the previous ones back afterwards, which two
    /// compilations at once would interleave.
    let compileLock = MuJoCoLock()

    let loadXML: meow_mj_loadXML_fn
    let deleteModel: meow_mj_deleteModel_fn
    let makeData: meow_mj_makeData_fn
    let copyData: meow_mj_copyData_fn
    let deleteData: meow_mj_deleteData_fn
    let step: meow_mj_compute_fn
    let forward: meow_mj_compute_fn
    let resetData: meow_mj_compute_fn
    let rnePostConstraint: meow_mj_compute_fn
    let name2id: meow_mj_name2id_fn
    let defaultVFS: meow_mj_defaultVFS_fn
    let makeEmptyFileVFS: meow_mj_makeEmptyFileVFS_fn
    let findFileVFS: meow_mj_findFileVFS_fn
    let deleteVFS: meow_mj_deleteVFS_fn

    private init(library: String, handle: UnsafeMutableRawPointer) throws(MuJoCoError) {
        func symbol<T>(_ name: String, as type: T.Type) throws(MuJoCoError) -> T {
            guard let pointer = dlsym(handle, name) else {
                throw .libraryUnavailable(reason: "\(library) has no symbol \(name)")
            }
            return unsafeBitCast(pointer, to: type)
        }
        let version = try symbol("mj_version", as: meow_mj_version_fn.self)()
        guard version == Self.headerVersion else {
            throw .libraryUnavailable(
                reason: "\(library) is MuJoCo \(version), but meow is built against the 2.2.2 headers")
        }
        self.library = library
        self.version = version
        loadXML = try symbol("mj_loadXML", as: meow_mj_loadXML_fn.self)
        deleteModel = try symbol("mj_deleteModel", as: meow_mj_deleteModel_fn.self)
        makeData = try symbol("mj_makeData", as: meow_mj_makeData_fn.self)
        copyData = try symbol("mj_copyData", as: meow_mj_copyData_fn.self)
        deleteData = try symbol("mj_deleteData", as: meow_mj_deleteData_fn.self)
        step = try symbol("mj_step", as: meow_mj_compute_fn.self)
        forward = try symbol("mj_forward", as: meow_mj_compute_fn.self)
        resetData = try symbol("mj_resetData", as: meow_mj_compute_fn.self)
        rnePostConstraint = try symbol("mj_rnePostConstraint", as: meow_mj_compute_fn.self)
        name2id = try symbol("mj_name2id", as: meow_mj_name2id_fn.self)
        defaultVFS = try symbol("mj_defaultVFS", as: meow_mj_defaultVFS_fn.self)
        makeEmptyFileVFS = try symbol("mj_makeEmptyFileVFS", as: meow_mj_makeEmptyFileVFS_fn.self)
        findFileVFS = try symbol("mj_findFileVFS", as: meow_mj_findFileVFS_fn.self)
        deleteVFS = try symbol("mj_deleteVFS", as: meow_mj_deleteVFS_fn.self)

        // MuJoCo prints each warning and appends it to MUJOCO_LOG.TXT in the working
        // directory; the warnings that matter here (an unstable simulation) are read
        // from mjData's counters and reported through StepInfo instead.
        let warningHook = try symbol("mju_user_warning", as: UnsafeMutablePointer<meow_mju_handler_fn?>.self)
        warningHook.pointee = { _ in }
        // A fatal error inside a guarded call returns to it (see `guarded`); MuJoCo's own
        // handler would wait for Enter on stdin and exit the process.
        Self.installErrorHook(try symbol("mju_user_error", as: UnsafeMutablePointer<meow_mju_handler_fn?>.self))
    }

    // NOTE: the C guard keeps its per-thread landing point in a static of a header
    // function, and Swift emits a private copy of that function into the object code of
    // each source file whose code calls it (also in optimised builds, which split the
    // module by file). The hook and the guard must therefore be called from code of this
    // file only: `@inline(never)` stops the optimiser moving either call into a caller
    // elsewhere, where it would land on a copy the hook never sees.
    @inline(never)
    private static func installErrorHook(_ hook: UnsafeMutablePointer<meow_mju_handler_fn?>) {
        meow_mj_install_error_hook(hook)
    }

    /// Calls `function` (mj_step or mj_forward) `times` times, stopping early when `stop`
    /// returns nonzero; returns MuJoCo's text if a fatal error interrupted it.
    ///
    /// After a fatal error the data is mid-computation: the caller must reset it.
    /// The guard and the hook are C (setjmp/longjmp) and must be used from this one file.
    @inline(never)
    func guarded(
        _ function: meow_mj_compute_fn, _ model: UnsafeMutablePointer<mjModel>, _ data: UnsafeMutablePointer<mjData>,
        times: Int = 1, stop: (@convention(c) (UnsafeMutablePointer<mjData>?) -> Int32)? = nil
    ) -> String? {
        guard meow_mj_step_guarded(function, model, data, Int32(times), stop) != 0 else { return nil }
        return String(cString: meow_mj_error_message())
    }

    /// The process's MuJoCo, opened on first use from `defaultLibraryNames`.
    public static func shared() throws(MuJoCoError) -> MuJoCoLibrary {
        try opened.get()
    }

    private static let opened: Result<MuJoCoLibrary, MuJoCoError> = open(names: defaultLibraryNames)

    /// Opens the first of `names` that loads; the error carries the first name's `dlerror` text.
    static func open(names: [String]) -> Result<MuJoCoLibrary, MuJoCoError> {
        var firstFailure: String?
        for name in names {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else {
                if firstFailure == nil { firstFailure = dlerror().map { String(cString: $0) } ?? name }
                continue
            }
            do throws(MuJoCoError) {
                return .success(try MuJoCoLibrary(library: name, handle: handle))
            } catch {
                dlclose(handle)
                return .failure(error)
            }
        }
        return .failure(.libraryUnavailable(reason: Self.shortReason(firstFailure ?? "no library names given")))
    }

    /// `dlerror`'s text without its trailing ": No such file or directory".
    static func shortReason(_ text: String) -> String {
        let suffix = ": No such file or directory"
        return text.hasSuffix(suffix) ? String(text.dropLast(suffix.count)) : text
    }
}

/// A pthread mutex; Environments imports nothing that provides one on every platform.
final class MuJoCoLock: @unchecked Sendable {  // The mutex itself is the synchronisation.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init() {
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func withLock<T>(_ body: () -> T) -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return body()
    }
}
