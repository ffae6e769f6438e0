import ArgumentParser
import CommandLineOptions
import Telemetry
import Transport

/// Raw nng transport figures over loopback TCP: REQ/REP latency and PUSH/PULL throughput.
///
/// These bound what the learner/actor protocol can do before any encoding:
/// the round trip of a small request (an action or a step), of a 4 KiB
/// batch, and of a policy's weights (about 1.9 MiB for Humanoid), and the
/// rate at which 64 KiB transition chunks can stream one way.
struct TransportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transport",
        abstract: "Measure nng REQ/REP round trips and PUSH/PULL throughput over loopback TCP.")

    @Option(help: "Timed round trips per payload size.")
    var rounds = 2000

    @Option(help: "Untimed round trips before each measurement.")
    var warmup = 100

    @Option(help: "Messages of 64 KiB for the PUSH/PULL run.")
    var messages = 20000

    @Option(help: "Concurrent REQ contexts for the many-clients run (also the server's REP contexts).")
    var contexts = 8

    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        guard rounds > 0, warmup >= 0, messages > 0, contexts > 0 else {
            throw ValidationError("--rounds, --messages and --contexts must be positive and --warmup not negative.")
        }
    }

    func run() async throws {
        _ = logging.bootstrap(label: "meow.bench")
        print("nng REQ/REP round trip over tcp://127.0.0.1 (echo, \(rounds) rounds)")
        print("payload      p50 us     p99 us    mean us")
        for size in [64, 4 << 10, 1_992_294] {
            let times = try await roundTrips(payloadSize: size)
            let sorted = times.sorted()
            let mean = times.reduce(0, +) / Double(times.count)
            print(BenchSupport.pad(BenchSupport.sizeLabel(size), 9), BenchSupport.pad(BenchSupport.fixed(BenchSupport.percentile(sorted, 0.50)), 10),
                  BenchSupport.pad(BenchSupport.fixed(BenchSupport.percentile(sorted, 0.99)), 10), BenchSupport.pad(BenchSupport.fixed(mean), 10))
        }
        let concurrent = try await concurrentRequests()
        print("\(contexts) REQ contexts x 64 B on one socket: \(BenchSupport.fixed(concurrent)) requests/s")
        let (rate, bandwidth) = try await pushPull(size: 64 << 10)
        print("PUSH/PULL 64 KiB x \(messages): \(BenchSupport.fixed(rate)) msg/s, \(BenchSupport.fixed(bandwidth)) MB/s")
    }

    // MARK: - Measurements

    /// Microseconds per round trip of an echoed payload.
    private func roundTrips(payloadSize: Int) async throws -> [Double] {
        let (server, url, serving) = try startEchoServer(contexts: 1)
        defer { server.close() }
        let client = try RequestSocket(options: benchOptions())
        defer { client.close() }
        try client.dial(url)
        let payload = [UInt8](repeating: 0x5A, count: payloadSize)
        for _ in 0..<warmup { _ = try await client.request(payload) }

        let clock = ContinuousClock()
        var times: [Double] = []
        times.reserveCapacity(rounds)
        for _ in 0..<rounds {
            let start = clock.now
            let reply = try await client.request(payload)
            times.append(BenchSupport.microseconds(clock.now - start))
            guard reply.count == payloadSize else { throw ValidationError("short echo: \(reply.count) bytes") }
        }
        server.close()
        try await serving.value
        return times
    }

    /// Requests per second with `contexts` requests in flight on one REQ socket.
    private func concurrentRequests() async throws -> Double {
        let (server, url, serving) = try startEchoServer(contexts: contexts)
        defer { server.close() }
        let client = try RequestSocket(options: benchOptions())
        defer { client.close() }
        try client.dial(url)
        let workers = try (0..<contexts).map { _ in try client.makeContext() }
        let perWorker = max(1, rounds / contexts)
        let payload = [UInt8](repeating: 1, count: 64)
        _ = try await workers[0].request(payload)

        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in workers {
                group.addTask {
                    for _ in 0..<perWorker { _ = try await worker.request(payload) }
                }
            }
            try await group.waitForAll()
        }
        let elapsed = clock.now - start
        server.close()
        try await serving.value
        return Double(perWorker * contexts) / elapsed.seconds
    }

    /// Messages per second and MB/s streaming `messages` messages of `size` bytes.
    private func pushPull(size: Int) async throws -> (Double, Double) {
        let pull = try PullSocket(options: benchOptions())
        defer { pull.close() }
        let listener = try pull.listen("tcp://127.0.0.1:0")
        let push = try PushSocket(options: benchOptions())
        defer { push.close() }
        try push.dial("tcp://127.0.0.1:\(listener.port ?? 0)")
        let payload = [UInt8](repeating: 7, count: size)
        let total = messages

        // One message first so the connection exists before timing starts.
        try await push.send(payload)
        _ = try await pull.receive()
        let clock = ContinuousClock()
        let start = clock.now
        let sending = Task {
            for _ in 0..<total { try await push.send(payload) }
        }
        var bytes = 0
        for _ in 0..<total { bytes += try await pull.receive().count }
        try await sending.value
        let elapsed = (clock.now - start).seconds
        return (Double(total) / elapsed, Double(bytes) / elapsed / 1e6)
    }

    // MARK: - Helpers

    private func benchOptions() -> SocketOptions {
        SocketOptions(receiveTimeout: .seconds(10), sendTimeout: .seconds(10))
    }

    private func startEchoServer(contexts: Int) throws -> (ReplySocket, String, Task<Void, any Error>) {
        let server = try ReplySocket(options: benchOptions())
        let listener = try server.listen("tcp://127.0.0.1:0")
        let serving = Task { try await server.serve(contexts: contexts) { $0 } }
        return (server, "tcp://127.0.0.1:\(listener.port ?? 0)", serving)
    }
}
