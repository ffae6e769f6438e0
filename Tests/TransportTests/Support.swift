import Foundation
import Testing
@testable import Transport

// MARK: - Endpoints

/// Options for test clients: bounded timeouts so a broken test fails rather than hangs.
///
/// The suites run on their own executors (`.ownExecutor`), so no CPU-heavy test of another suite
/// delays them; tests of timeouts pass their own short ones.
func clientOptions(
    receiveTimeout: Duration? = .seconds(5), maxMessageSize: Int = SocketOptions.defaultMaxMessageSize
) -> SocketOptions {
    SocketOptions(
        maxMessageSize: maxMessageSize, receiveTimeout: receiveTimeout, sendTimeout: .seconds(5),
        reconnectMinimum: .milliseconds(20), reconnectMaximum: .milliseconds(200))
}

// MARK: - Executors

/// A task executor backed by a serial dispatch queue of its own, off Swift's cooperative pool.
///
/// The cooperative pool has one thread per core (two here). Swift Testing runs suites in
/// parallel, and a CPU-bound synchronous test of another module holds a pool thread for
/// seconds; a server task or a receive queued behind it then answers after its peer's nng
/// timer has fired (nng's timers run on nng's threads, on time). Tasks that prefer this
/// executor run on a dispatch thread whatever the pool is doing.
final class QueueExecutor: TaskExecutor {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// The executor of the running test (`.ownExecutor`), inherited by every task it starts.
    @TaskLocal static var current: QueueExecutor?
}

/// Runs each test of a suite on a `QueueExecutor` of its own.
struct OwnExecutorTrait: SuiteTrait, TestTrait, TestScoping {
    var isRecursive: Bool { true }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        guard testCase != nil else { return try await function() }
        let executor = QueueExecutor(label: "meow.transport-tests.\(test.name)")
        try await QueueExecutor.$current.withValue(executor) {
            try await withTaskExecutorPreference(executor) { try await function() }
        }
    }
}

extension Trait where Self == OwnExecutorTrait {
    /// Runs the suite's tests, and the tasks they start, off the cooperative pool.
    static var ownExecutor: Self { OwnExecutorTrait() }
}

/// An unstructured task on the running test's executor (a plain `Task {}` would not inherit it).
func testTask<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> Task<T, any Error> {
    Task(executorPreference: QueueExecutor.current, operation: body)
}

/// Listens on a free loopback TCP port and returns the URL to dial.
func listenOnFreePort(_ socket: some TransportSocket, scheme: String = "tcp", host: String = "127.0.0.1",
                      tls: TLSConfiguration? = nil) throws -> String {
    let listener = try socket.listen("\(scheme)://\(host):0", tls: tls)
    let port = try #require(listener.port)
    return "\(scheme)://\(host):\(port)"
}

/// A TCP port that was free a moment ago (for peers that must bind it themselves).
func freePort() throws -> Int {
    let probe = try PullSocket()
    defer { probe.close() }
    return try #require(probe.listen("tcp://127.0.0.1:0").port)
}

/// Runs a REP server with `contexts` workers in the background.
func startServer(
    _ socket: ReplySocket, contexts: Int = 1,
    handler: @escaping @Sendable ([UInt8]) async -> [UInt8] = { Array($0.reversed()) }
) -> Task<Void, any Error> {
    // Its own executor even outside `.ownExecutor`: a server late to answer fails its client's timeout.
    Task(executorPreference: QueueExecutor.current ?? QueueExecutor(label: "meow.transport-tests.server")) {
        try await socket.serve(contexts: contexts, handler: handler)
    }
}

/// Deterministic pseudo-random bytes (SplitMix64), so failures reproduce.
func testBytes(count: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    return (0..<count).map { _ in
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return UInt8(truncatingIfNeeded: z ^ (z >> 31))
    }
}

// MARK: - Processes

struct ProcessResult: Sendable {
    var status: Int32
    var output: String
    var errorOutput: String
}

/// Runs a program to completion without blocking a cooperative thread.
///
/// Output is read after exit, so the program must print little (< 64 KiB).
func runProcess(_ arguments: [String]) async throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    let errorOutput = Pipe()
    process.standardOutput = output
    process.standardError = errorOutput
    return try await withCheckedThrowingContinuation { continuation in
        process.terminationHandler = { finished in
            let out = output.fileHandleForReading.readDataToEndOfFile()
            let err = errorOutput.fileHandleForReading.readDataToEndOfFile()
            continuation.resume(returning: ProcessResult(
                status: finished.terminationStatus,
                output: String(decoding: out, as: UTF8.self),
                errorOutput: String(decoding: err, as: UTF8.self)))
        }
        do { try process.run() } catch { continuation.resume(throwing: error) }
    }
}

/// Whether a shell command succeeds (used to decide whether to run a test).
func commandSucceeds(_ arguments: [String]) -> Bool {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    guard (try? process.run()) != nil else { return false }
    process.waitUntilExit()
    return process.terminationStatus == 0
}

/// A fresh temporary directory, removed by the caller.
func makeTemporaryDirectory() throws -> URL {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("meow-transport-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory
}

// MARK: - Memory

/// This process's peak resident set size in bytes (VmHWM).
func peakResidentBytes() throws -> Int {
    try processStatusBytes("VmHWM")
}

/// This process's peak virtual size in bytes (VmPeak): grows with any large
/// allocation, even one whose pages are never touched.
func peakVirtualBytes() throws -> Int {
    try processStatusBytes("VmPeak")
}

/// A "kB" field of /proc/self/status, in bytes.
private func processStatusBytes(_ field: String) throws -> Int {
    let status = try String(contentsOfFile: "/proc/self/status", encoding: .utf8)
    let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("\(field):") })
    let kilobytes = try #require(Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]))
    return kilobytes * 1024
}
