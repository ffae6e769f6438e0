// swift-tools-version:6.0
//
// meow: MEow (Maximum Entropy RL via Energy-Based Normalizing Flow) as a
// distributed training system. Layers, lowest first (see docs/architecture in
// the README): CNNG/CBLAS shims -> Tensor -> Autodiff -> NN -> MEow;
// Environments; Wire; Transport; executables on top.

import PackageDescription
import Foundation

// MARK: - Code generation target (the one place the CPU choice is made)

/// The `-target-cpu` for the numeric modules.
///
/// SIMD code needs a target CPU: without one, `SIMD16.addingProduct` lowers to
/// libm `fmaf` calls (about 160× slower). `MEOW_TARGET_CPU` overrides the choice; set it
/// to `x86-64` for a portable binary (container images built for other hosts),
/// or `haswell` for an AVX2 fleet. Otherwise the build host decides: the
/// AVX-512 subset that Intel Skylake-SP and later and AMD Zen 4 and later share,
/// then AVX2, then the portable baseline.
let targetCPU: String = {
    if let chosen = Context.environment["MEOW_TARGET_CPU"], !chosen.isEmpty { return chosen }
    #if arch(x86_64)
    let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let flagsLine = info.split(separator: "\n").first { $0.hasPrefix("flags") } ?? ""
    let flags = Set(flagsLine.split(separator: " ").map(String.init))
    if ["avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"].allSatisfy(flags.contains) {
        return "skylake-avx512"
    }
    if ["avx2", "fma"].allSatisfy(flags.contains) { return "haswell" }
    return "x86-64"
    #else
    return "generic"
    #endif
}()

/// Flags for the numeric hot loops, each one measured to pay off (6× on an index-loop matmul, 4.6× on Adam): `-Ounchecked` lets
/// index loops vectorise, `-fno-math-errno` makes `squareRoot()` a vector sqrt.
/// Only modules that never see untrusted bytes get `-Ounchecked`. `-cross-module-optimization`
/// lets the generic tape, MLP and kernels be specialised for Float where MEow calls them (acting at
/// batch 1 was half runtime generic-metadata lookups without it, docs/benchmarks.md). Caveat seen
/// with it: an incremental release build may keep a dependent module's inlined copy of a changed
/// function body, so rebuild the dependents (or clean) before timing a change to Tensor.
/// `MEOW_SIMD512` tells the GEMM router that the pure-Swift kernel was compiled for 512-bit vectors.
///
/// Debug builds (`swift build`, `swift test`) compile these modules with `-O` too, rather than testing in
/// release: at `-Onone` the learning tests ran seconds to tens of seconds of synchronous arithmetic each,
/// holding one of the cooperative pool's two threads (2 cores) while async transport tests waited behind
/// them. Measured with `swift test --skip-build --no-parallel` on the 2-core machine: 128 s at `-Onone`,
/// 59 s at `-O` (CheckpointResumeTests 30 → 6.7 s, the sampling-density test 21 → 2.5 s). `-O` keeps
/// overflow and bounds checks and `@testable import`, so a test still traps where release would read out of
/// bounds (a release test build, `-Ounchecked`, would not); the price is stepping through optimised code in
/// a debugger.
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-Ounchecked", "-wmo", "-cross-module-optimization"], .when(configuration: .release)),
    .unsafeFlags(["-O"], .when(configuration: .debug)),
    .unsafeFlags(["-target-cpu", targetCPU, "-Xcc", "-fno-math-errno"]),
] + (targetCPU == "skylake-avx512" ? [.define("MEOW_SIMD512")] : [])

/// Flags for everything else: the same CPU, but overflow and bounds checks stay.
let checkedSettings: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", targetCPU]),
]

let package = Package(
    name: "meow",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "meow", targets: ["meow"]),
        .executable(name: "meow-bench", targets: ["meow-bench"]),
        .executable(name: "meow-learner", targets: ["meow-learner"]),
        .executable(name: "meow-actor", targets: ["meow-actor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
    ],
    targets: [
        // System-library shims: no Swift logic.
        .systemLibrary(name: "CNNG", path: "Sources/CNNG"),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS"),
        .systemLibrary(name: "CMuJoCo", path: "Sources/CMuJoCo"),

        // Numeric core.
        .target(name: "Tensor", dependencies: ["CBLAS"], swiftSettings: numericSettings),
        .target(name: "Autodiff", dependencies: ["Tensor"], swiftSettings: numericSettings),
        .target(name: "NN", dependencies: ["Autodiff"], swiftSettings: numericSettings),
        .target(name: "MEow", dependencies: ["NN"], swiftSettings: numericSettings),

        // Environments import nothing above them; MuJoCo is opened at run time (no link).
        .target(name: "Environments", dependencies: ["CMuJoCo"], swiftSettings: numericSettings),

        // Replay imports nothing: ring buffer, sampler, rate limiter.
        .target(name: "Replay", swiftSettings: numericSettings),

        // The wire protocol (stdlib only) and the nng transport never import each other.
        .target(name: "Wire", swiftSettings: checkedSettings),
        .target(name: "Transport", dependencies: ["CNNG"], swiftSettings: checkedSettings),

        // Telemetry sits beside the others and imports none of them: TensorBoard/CSV
        // scalar logs and the Prometheus endpoint; the learner composes it.
        .target(
            name: "Telemetry",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: checkedSettings),

        // The simulators' side of a run, shared by the learner and a meow-actor gateway: HELLO
        // admission, sessions, episodes, the simulator server and its batched inference.
        .target(
            name: "Simulators",
            dependencies: [
                "MEow", "Replay", "Tensor", "Wire", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: checkedSettings),
        // The single-process trainer and the learner service (Learning/Service),
        // composed from the agent, environments, replay, the simulators, the wire protocol and the transport.
        .target(
            name: "Learning",
            dependencies: [
                "MEow", "Environments", "Replay", "Simulators", "Tensor", "Wire", "Transport", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: checkedSettings),
        // The actor loop, composed from the same parts; its simulator gateway serves
        // simulators with the Simulators server. It never imports Learning.
        .target(
            name: "Acting",
            dependencies: [
                "MEow", "Environments", "Wire", "Transport", "Simulators", "Replay", "Telemetry",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: checkedSettings),

        // Option groups shared by every executable (STYLE.md: commands reuse @OptionGroups).
        .target(
            name: "CommandLineOptions",
            dependencies: [
                "Learning", "MEow", "Tensor", "Telemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: checkedSettings),

        // Executables: parse, validate, call a library entry point.
        .executableTarget(
            name: "meow-learner",
            dependencies: [
                "Learning", "MEow", "CommandLineOptions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: checkedSettings),
        .executableTarget(
            name: "meow-actor",
            dependencies: [
                "Acting", "Learning", "MEow", "CommandLineOptions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: checkedSettings),
        .executableTarget(
            name: "meow",
            dependencies: [
                "MEow", "Environments", "Learning", "Tensor", "CommandLineOptions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: checkedSettings),
        .executableTarget(
            name: "meow-bench",
            dependencies: [
                "NN", "MEow", "Environments", "Wire", "Transport", "Telemetry", "CommandLineOptions",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: numericSettings),

        .testTarget(name: "TensorTests", dependencies: ["Tensor"], swiftSettings: checkedSettings),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff"], swiftSettings: checkedSettings),
        .testTarget(name: "NNTests", dependencies: ["NN"], swiftSettings: checkedSettings),
        .testTarget(name: "MEowTests", dependencies: ["MEow", "Environments"], swiftSettings: checkedSettings),
        .testTarget(
            name: "EnvironmentsTests", dependencies: ["Environments"], exclude: ["Fixtures"],
            swiftSettings: checkedSettings),
        .testTarget(name: "ReplayTests", dependencies: ["Replay"], swiftSettings: checkedSettings),
        .testTarget(name: "WireTests", dependencies: ["Wire"], swiftSettings: checkedSettings),
        .testTarget(
            name: "LearningTests",
            dependencies: ["Learning", "Simulators", "Replay", "Wire", "Environments", "Telemetry"],
            exclude: ["Fixtures"],
            swiftSettings: checkedSettings),
        .testTarget(
            name: "ActingTests", dependencies: ["Acting", "Learning", "Simulators", "Wire", "Environments", "MEow"],
            swiftSettings: checkedSettings),
        .testTarget(
            name: "SimulatorsTests", dependencies: ["Simulators", "MEow", "Replay", "Tensor", "Wire"],
            swiftSettings: checkedSettings),
        .testTarget(
            name: "CommandLineOptionsTests",
            dependencies: [
                "CommandLineOptions", "Learning", "MEow", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: checkedSettings),
        .testTarget(
            name: "TransportTests", dependencies: ["Transport"], exclude: ["Python"],
            swiftSettings: checkedSettings),
        .testTarget(
            name: "TelemetryTests", dependencies: ["Telemetry"], exclude: ["Python"],
            swiftSettings: checkedSettings),
    ],
    swiftLanguageModes: [.v6]
)
