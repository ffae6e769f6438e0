import ArgumentParser
import CommandLineOptions
import Transport
import Wire

/// Protocol v1 over loopback TCP, next to raw nng moving the same bytes in the same run.
///
/// The server side decodes each frame and answers it the way a learner would, minus the
/// policy: an ACTION_REPLY with zero actions, or the pre-encoded WEIGHTS chunk asked for. So
/// "protocol / raw" is the cost of framing, checksums, validation and the extra copies, and
/// the absolute figure bounds what a simulator or actor sees before inference.
struct ProtocolBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "protocol",
        abstract: "ACTION_REQUEST round trips and WEIGHTS transfers over loopback, next to raw nng.")

    @Option(help: "Timed round trips per case.")
    var rounds = 2000

    @Option(help: "Timed weight transfers per size.")
    var transfers = 200

    @Option(help: "WEIGHTS chunk size in bytes.")
    var chunkBytes = 1 << 20

    @Option(help: "Observation size of the ACTION_REQUEST rows (Hopper: 11).")
    var obsDim = 11

    @Option(help: "Action size (Hopper: 3).")
    var actionDim = 3

    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        guard rounds > 0, transfers > 0, chunkBytes >= 1024, obsDim > 0, actionDim > 0 else {
            throw ValidationError("--rounds, --transfers, --obs-dim and --action-dim must be positive, --chunk-bytes at least 1024.")
        }
    }

    func run() async throws {
        _ = logging.bootstrap(label: "meow.bench")
        print("ACTION_REQUEST -> ACTION_REPLY over tcp://127.0.0.1 (obs \(obsDim), action \(actionDim), \(rounds) rounds)")
        print("rows    protocol p50  p99 us   raw nng p50  p99 us   p50 ratio")
        for rows in [1, 64] {
            let request = try actionRequestFrame(rows: rows)
            let protocolTimes = try await timeRoundTrips(request, rounds: rounds, server: answer)
            let replySize = try answer(request).count
            let rawTimes = try await timeRoundTrips(
                request, rounds: rounds, server: { [UInt8](repeating: 0, count: replySize + ($0.isEmpty ? 1 : 0)) })
            let (p50, p99) = quantiles(protocolTimes), (r50, r99) = quantiles(rawTimes)
            print(BenchSupport.pad("\(rows)", 4), BenchSupport.pad(BenchSupport.fixed(p50), 12),
                  BenchSupport.pad(BenchSupport.fixed(p99), 8), BenchSupport.pad(BenchSupport.fixed(r50), 12),
                  BenchSupport.pad(BenchSupport.fixed(r99), 8), BenchSupport.pad(BenchSupport.fixed(p50 / r50, digits: 2), 11))
        }

        print("\nWEIGHTS transfer (chunks of \(BenchSupport.sizeLabel(chunkBytes)), \(transfers) transfers, ms)")
        print("blob        protocol p50  p99     raw one-message p50  p99   p50 ratio")
        for blobBytes in [734_003, 1_992_294] {
            let chunks = try weightChunks(blobBytes: blobBytes)
            let protocolTimes = try await timeWeightTransfers(chunks: chunks, blobBytes: blobBytes)
            let raw = [UInt8](repeating: 3, count: blobBytes)
            let rawTimes = try await timeRoundTrips([1], rounds: transfers, server: { _ in raw })
            let (p50, p99) = quantiles(protocolTimes), (r50, r99) = quantiles(rawTimes)
            print(BenchSupport.pad(BenchSupport.sizeLabel(blobBytes), 8),
                  BenchSupport.pad(BenchSupport.fixed(p50 / 1000, digits: 2), 13),
                  BenchSupport.pad(BenchSupport.fixed(p99 / 1000, digits: 2), 7),
                  BenchSupport.pad(BenchSupport.fixed(r50 / 1000, digits: 2), 20),
                  BenchSupport.pad(BenchSupport.fixed(r99 / 1000, digits: 2), 6),
                  BenchSupport.pad(BenchSupport.fixed(p50 / r50, digits: 2), 11))
        }
    }

    // MARK: - Frames

    private func actionRequestFrame(rows: Int) throws -> [UInt8] {
        let request = ActionRequest(
            deterministic: false, observationSize: obsDim, actionSize: actionDim,
            episodeIDs: (0..<rows).map { UInt64($0) },
            observations: (0..<(rows * obsDim)).map { Float($0 % 17) * 0.1 },
            previousRewards: [Float](repeating: 1, count: rows),
            events: [ActionEvent](repeating: .step, count: rows),
            previousDoneFlags: [UInt8](repeating: 0, count: rows))
        return try Frame(.actionRequest(request), requestID: 1).encode()
    }

    /// What a learner does with a frame, minus inference.
    @Sendable private func answer(_ bytes: [UInt8]) throws -> [UInt8] {
        let frame = try Frame.decode(bytes)
        guard case .actionRequest(let request) = frame.message else { throw ValidationError("unexpected frame") }
        let reply = ActionReply(
            policyVersion: 1, actionSize: request.actionSize,
            actions: [Float](repeating: 0, count: request.count * request.actionSize))
        return try Frame(.actionReply(reply), requestID: frame.requestID).encode()
    }

    /// Encoded WEIGHTS chunks of a blob split as the spec says; the table travels in chunk 0.
    private func weightChunks(blobBytes: Int) throws -> [[UInt8]] {
        let blob = [UInt8](repeating: 7, count: blobBytes)
        let count = (blobBytes + chunkBytes - 1) / chunkBytes
        let table = [TensorEntry(name: "policy.all", dtype: .float32, shape: [blobBytes / 4], offset: 0)]
        return try (0..<count).map { index in
            let start = index * chunkBytes, end = min(blobBytes, start + chunkBytes)
            let chunk = WeightsChunk(
                version: 1, totalBytes: UInt64(blobBytes), chunkOffset: UInt64(start),
                chunkIndex: UInt32(index), chunkCount: UInt32(count),
                tensors: index == 0 ? table : [], data: Array(blob[start..<end]))
            return try Frame(.weights(chunk), requestID: UInt32(index)).encode()
        }
    }

    // MARK: - Timing

    private func timeRoundTrips(
        _ request: [UInt8], rounds: Int, server: @escaping @Sendable ([UInt8]) throws -> [UInt8]
    ) async throws -> [Double] {
        let (socket, url, serving) = try startServer { (try? server($0)) ?? [0] }
        defer { socket.close() }
        let client = try RequestSocket(options: options())
        defer { client.close() }
        try client.dial(url)
        for _ in 0..<50 { _ = try await client.request(request) }
        let clock = ContinuousClock()
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = clock.now
            let reply = try await client.request(request)
            if reply.first == 0x4D { _ = try Frame.decode(reply) }  // "M": a frame, decode it as a peer would
            times.append(BenchSupport.microseconds(clock.now - start))
        }
        socket.close()
        try await serving.value
        return times
    }

    /// Fetches every chunk with WEIGHTS_REQUEST and assembles the blob; µs per whole transfer.
    private func timeWeightTransfers(chunks: [[UInt8]], blobBytes: Int) async throws -> [Double] {
        let (socket, url, serving) = try startServer { bytes in
            guard let frame = try? Frame.decode(bytes), case .weightsRequest(let request) = frame.message,
                  Int(request.chunkIndex) < chunks.count else { return [0] }
            return chunks[Int(request.chunkIndex)]
        }
        defer { socket.close() }
        let client = try RequestSocket(options: options())
        defer { client.close() }
        try client.dial(url)
        let clock = ContinuousClock()
        var times: [Double] = []
        for round in -5..<transfers {
            let start = clock.now
            var blob = [UInt8](repeating: 0, count: blobBytes)
            var index: UInt32 = 0, count: UInt32 = 1
            while index < count {
                let ask = WeightsRequest(heldVersion: 0, fetchVersion: index == 0 ? 0 : 1, chunkIndex: index, onlyIfNewer: true)
                let reply = try Frame.decode(try await client.request(try Frame(.weightsRequest(ask), requestID: index).encode()))
                guard case .weights(let chunk) = reply.message else { throw ValidationError("expected WEIGHTS") }
                let offset = Int(chunk.chunkOffset)
                blob.replaceSubrange(offset..<(offset + chunk.data.count), with: chunk.data)
                count = chunk.chunkCount
                index += 1
            }
            if round >= 0 { times.append(BenchSupport.microseconds(clock.now - start)) }
        }
        socket.close()
        try await serving.value
        return times
    }

    private func options() -> SocketOptions {
        SocketOptions(maxMessageSize: 16 << 20, receiveTimeout: .seconds(10), sendTimeout: .seconds(10))
    }

    private func startServer(
        _ handler: @escaping @Sendable ([UInt8]) -> [UInt8]
    ) throws -> (ReplySocket, String, Task<Void, any Error>) {
        let server = try ReplySocket(options: options())
        let listener = try server.listen("tcp://127.0.0.1:0")
        let serving = Task { try await server.serve(contexts: 1) { handler($0) } }
        return (server, "tcp://127.0.0.1:\(listener.port ?? 0)", serving)
    }

    private func quantiles(_ times: [Double]) -> (Double, Double) {
        let sorted = times.sorted()
        return (BenchSupport.percentile(sorted, 0.5), BenchSupport.percentile(sorted, 0.99))
    }
}
