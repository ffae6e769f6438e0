import CBLAS
import Foundation

/// How to load OpenBLAS: which kernel core, how many threads, which library.
///
/// Executables fill it from `--blas-core` / `--blas-threads`; `fromEnvironment()`
/// reads `MEOW_BLAS_CORE` and `MEOW_BLAS_THREADS`.
public struct BLASConfiguration: Sendable, Equatable {
    /// A core name for `OPENBLAS_CORETYPE` (e.g. "SkylakeX"); nil to decide automatically.
    public var core: String?
    /// BLAS threads; 1 by default because the pthread build degrades gracefully
    /// under contention only when single-threaded (OpenMP and other multi-threaded BLAS builds slowed 40–700× when one core was busy).
    public var threads: Int
    /// Library names tried in order with `dlopen`.
    public var libraryNames: [String]
    /// False to skip OpenBLAS and run every GEMM on the pure-Swift kernel (`MEOW_BLAS=off`).
    public var enabled: Bool

    public init(core: String? = nil, threads: Int = 1,
                libraryNames: [String] = ["libopenblas.so.0", "libopenblas.so", "libblas.so.3"], enabled: Bool = true) {
        self.core = core
        self.threads = threads
        self.libraryNames = libraryNames
        self.enabled = enabled
    }

    /// The configuration the environment asks for (`MEOW_BLAS_CORE`, `MEOW_BLAS_THREADS`, `MEOW_BLAS=off`).
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> BLASConfiguration {
        var config = BLASConfiguration()
        if let core = environment["MEOW_BLAS_CORE"], !core.isEmpty { config.core = core }
        if let text = environment["MEOW_BLAS_THREADS"], let n = Int(text), n > 0 { config.threads = n }
        if let flag = environment["MEOW_BLAS"]?.lowercased(), ["off", "0", "false", "no"].contains(flag) {
            config.enabled = false
        }
        return config
    }
}

/// What `BLAS.load` did: which library and kernel, and why that kernel.
public struct BLASInfo: Sendable, Equatable {
    /// Where the kernel choice came from.
    public enum CoreSource: String, Sendable {
        /// `MEOW_BLAS_CORE` or `--blas-core`.
        case requested = "core requested by the user"
        /// `OPENBLAS_CORETYPE` was already set by the user or site.
        case environment = "OPENBLAS_CORETYPE from the environment"
        /// This module read the CPU's features.
        case cpuFeatures = "core chosen from CPUID"
        /// OpenBLAS's own detection.
        case autodetect = "OpenBLAS autodetect"
    }

    /// True when OpenBLAS was loaded; false means every GEMM runs the pure-Swift kernel.
    public var loaded: Bool
    /// The library file that was opened.
    public var library: String?
    /// The OpenBLAS build string (`openblas_get_config`), e.g. "OpenBLAS 0.3.21 ...".
    public var version: String?
    /// The running kernel (`openblas_get_corename`), e.g. "SkylakeX".
    public var kernel: String?
    /// The OPENBLAS_CORETYPE value in effect when the library loaded, if any.
    public var requestedCore: String?
    public var coreSource: CoreSource
    public var threads: Int
    /// Problems the user should act on (GEMM runs slower than it could); executables log them as warnings.
    public var warnings: [String]
    /// Informational lines (e.g. a better kernel exists); executables log them as notices.
    public var notes: [String]

    /// One line for start-up logs, e.g. `BLAS: OpenBLAS 0.3.21 kernel=SkylakeX threads=1 (core chosen from CPUID)`.
    public var summary: String {
        guard loaded else { return "BLAS: OpenBLAS not loaded; using the pure-Swift GEMM" }
        let name = version.map { v in v.split(separator: " ").prefix(2).joined(separator: " ") } ?? (library ?? "BLAS")
        return "BLAS: \(name) kernel=\(kernel ?? "unknown") threads=\(threads) (\(coreSource.rawValue))"
    }

    /// The GEMM routing in one line: which kernel runs which shapes.
    public var routingSummary: String {
        GEMMRouting(blasVectorBits: loaded ? BLAS.vectorBits(kernel: kernel) : nil,
                    datapathBits: CPUFeatures.host().datapathBits).summary
    }

    /// The summary, the GEMM routing, warnings and notes, one per line, for a report on stdout
    /// (the benchmarks); executables log the same through swift-log with a level each.
    public var logLines: [String] {
        [summary, routingSummary] + warnings.map { "WARNING: \($0)" } + notes.map { "note: \($0)" }
    }
}

/// Features of the host CPU that decide the OpenBLAS kernel.
public struct CPUFeatures: Sendable, Equatable {
    public var avx2: Bool
    public var fma: Bool
    public var avx512: Bool
    /// False where AVX-512 instructions run as two 256-bit halves (AMD Zen 4, CPU family 0x19), so a
    /// 512-bit kernel does no more arithmetic per cycle than a 256-bit one.
    public var fullWidth512: Bool

    public init(avx2: Bool, fma: Bool, avx512: Bool, fullWidth512: Bool = true) {
        self.avx2 = avx2
        self.fma = fma
        self.avx512 = avx512
        self.fullWidth512 = fullWidth512
    }

    /// Reads the CPUID flags and family the kernel reports in /proc/cpuinfo (Linux); none elsewhere.
    public static func host() -> CPUFeatures {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let lines = info.split(separator: "\n")
        func field(_ name: String) -> String {
            guard let line = lines.first(where: { $0.hasPrefix(name) }), let colon = line.firstIndex(of: ":") else { return "" }
            return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let flags = Set(field("flags").split(separator: " ").map(String.init))
        let zen4 = field("vendor_id") == "AuthenticAMD" && field("cpu family") == "25"
        return CPUFeatures(
            avx2: flags.contains("avx2"), fma: flags.contains("fma"),
            avx512: ["avx512f", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains),
            fullWidth512: !zen4)
    }

    /// The widest vector the CPU does arithmetic on in one pass: what bounds any kernel's speed.
    public var datapathBits: Int {
        if avx512 && fullWidth512 { return 512 }
        return avx2 ? 256 : 128
    }

    /// The best OpenBLAS core for these features, or nil to let OpenBLAS decide.
    public var bestCore: String? {
        if avx512 { return "SkylakeX" }
        if avx2 && fma { return "Haswell" }
        return nil
    }
}

/// Loads OpenBLAS at run time and chooses its kernel.
///
/// OpenBLAS 0.3.21 does not know recent CPUs and silently falls back to SSE3
/// kernels 4x slower; it reads OPENBLAS_CORETYPE only while loading, so the
/// library is opened here with `dlopen` after the variable is set. Loading
/// happens once per process (the library is process-wide state); later calls
/// return the first result.
public enum BLAS {
    /// Kernels that use AVX2 or better; anything else on an AVX2 CPU is a fallback.
    static let modernKernels: Set<String> = [
        "haswell", "zen", "skylakex", "cooperlake", "sapphirerapids", "excavator",
    ]

    /// Kernels whose inner loops run 512-bit vectors.
    static let wideKernels: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]

    /// Vector width in bits of an OpenBLAS kernel, by its core name (128 for the SSE fallbacks).
    public static func vectorBits(kernel: String?) -> Int {
        let name = kernel?.lowercased() ?? ""
        if wideKernels.contains(name) { return 512 }
        return modernKernels.contains(name) ? 256 : 128
    }

    /// Loads OpenBLAS with `config` (first call only) and returns what happened.
    @discardableResult
    public static func load(_ config: BLASConfiguration = .fromEnvironment()) -> BLASInfo {
        state.lock.lock()
        defer { state.lock.unlock() }
        if let loaded = state.loaded { return loaded.info }
        let loaded = open(config, features: .host())
        state.loaded = loaded
        return loaded.info
    }

    /// The result of the first `load`, or nil if nothing was loaded yet.
    public static var info: BLASInfo? {
        state.lock.lock()
        defer { state.lock.unlock() }
        return state.loaded?.info
    }

    /// The loaded library, loading it from the environment's configuration on first use.
    static func current() -> LoadedBLAS? {
        state.lock.lock()
        if let loaded = state.loaded {
            state.lock.unlock()
            return loaded.sgemm == nil ? nil : loaded
        }
        state.lock.unlock()
        // Loaded on first use without an executable's `load` first (tests, library users): nothing
        // is logged here (Tensor does not log); `BLAS.info` holds the outcome for whoever asks.
        load()
        state.lock.lock()
        defer { state.lock.unlock() }
        return state.loaded?.sgemm == nil ? nil : state.loaded
    }

    /// Decides the core: the user's request, then the site's OPENBLAS_CORETYPE, then CPU features.
    static func chooseCore(_ config: BLASConfiguration, environment: [String: String],
                           features: CPUFeatures) -> (core: String?, source: BLASInfo.CoreSource, notes: [String]) {
        if let core = config.core { return (core, .requested, []) }
        if let site = environment["OPENBLAS_CORETYPE"], !site.isEmpty {
            var notes: [String] = []
            if let best = features.bestCore, best.lowercased() != site.lowercased(),
               !(best == "Haswell" && modernKernels.contains(site.lowercased())) {
                notes.append("OPENBLAS_CORETYPE=\(site) is set, but this CPU supports the \(best) kernel;"
                             + " set MEOW_BLAS_CORE=\(best) (or --blas-core \(best)) for faster GEMM")
            }
            return (site, .environment, notes)
        }
        if let best = features.bestCore { return (best, .cpuFeatures, []) }
        return (nil, .autodetect, [])
    }

    private static func open(_ config: BLASConfiguration, features: CPUFeatures) -> LoadedBLAS {
        let environment = ProcessInfo.processInfo.environment
        let choice = chooseCore(config, environment: environment, features: features)
        if let core = choice.core { setenv("OPENBLAS_CORETYPE", core, 1) }
        if environment["OPENBLAS_NUM_THREADS"] == nil {
            // Keeps the pthread build from starting idle worker threads at load.
            setenv("OPENBLAS_NUM_THREADS", String(config.threads), 1)
        }
        var info = BLASInfo(loaded: false, library: nil, version: nil, kernel: nil,
                            requestedCore: choice.core, coreSource: choice.source,
                            threads: config.threads, warnings: [], notes: choice.notes)
        guard config.enabled else {
            info.notes = []
            info.warnings.append("OpenBLAS disabled by configuration (MEOW_BLAS=off);"
                                 + " every GEMM uses the pure-Swift kernel")
            return LoadedBLAS(info: info, sgemm: nil, dgemm: nil)
        }
        var handle: UnsafeMutableRawPointer?
        for name in config.libraryNames {
            handle = dlopen(name, RTLD_NOW | RTLD_LOCAL)
            if handle != nil { info.library = name; break }
        }
        guard let handle,
              let sgemmSymbol = dlsym(handle, "cblas_sgemm"),
              let dgemmSymbol = dlsym(handle, "cblas_dgemm") else {
            info.warnings.append("OpenBLAS could not be loaded (tried \(config.libraryNames.joined(separator: ", ")));"
                                 + " every GEMM uses the pure-Swift kernel")
            return LoadedBLAS(info: info, sgemm: nil, dgemm: nil)
        }
        let sgemm = unsafeBitCast(sgemmSymbol, to: meow_cblas_sgemm_fn.self)
        let dgemm = unsafeBitCast(dgemmSymbol, to: meow_cblas_dgemm_fn.self)
        info.loaded = true
        if let symbol = dlsym(handle, "openblas_set_num_threads") {
            unsafeBitCast(symbol, to: meow_openblas_set_num_threads_fn.self)(Int32(config.threads))
        }
        if let symbol = dlsym(handle, "openblas_get_corename"),
           let name = unsafeBitCast(symbol, to: meow_openblas_get_corename_fn.self)() {
            info.kernel = String(cString: name).trimmingCharacters(in: .whitespaces)
        }
        if let symbol = dlsym(handle, "openblas_get_config"),
           let text = unsafeBitCast(symbol, to: meow_openblas_get_config_fn.self)() {
            info.version = String(cString: text).trimmingCharacters(in: .whitespaces)
        }
        if let kernel = info.kernel, features.avx2, !modernKernels.contains(kernel.lowercased()) {
            info.warnings.append("OpenBLAS runs its \(kernel) fallback kernel on a CPU with AVX2"
                                 + "\(features.avx512 ? "/AVX-512" : ""): GEMM is ~4x slower;"
                                 + " set MEOW_BLAS_CORE=\(features.bestCore ?? "Haswell")")
        }
        return LoadedBLAS(info: info, sgemm: sgemm, dgemm: dgemm)
    }

    private static let state = BLASState()
}

/// The resolved entry points; immutable once built.
final class LoadedBLAS: @unchecked Sendable {
    let info: BLASInfo
    let sgemm: meow_cblas_sgemm_fn?
    let dgemm: meow_cblas_dgemm_fn?
    /// Which kernel runs which GEMM shape, fixed at load.
    let routing: GEMMRouting

    init(info: BLASInfo, sgemm: meow_cblas_sgemm_fn?, dgemm: meow_cblas_dgemm_fn?) {
        self.info = info
        self.sgemm = sgemm
        self.dgemm = dgemm
        routing = GEMMRouting(blasVectorBits: sgemm == nil ? nil : BLAS.vectorBits(kernel: info.kernel),
                              datapathBits: CPUFeatures.host().datapathBits)
    }
}

/// The process-wide load state, guarded by a lock.
private final class BLASState: @unchecked Sendable {
    let lock = NSLock()
    var loaded: LoadedBLAS?
}
