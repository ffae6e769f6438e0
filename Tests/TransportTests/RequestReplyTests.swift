import Testing
@testable import Transport

@Suite(.ownExecutor) struct RequestReplyTests {
    // MARK: - Round trips

    @Test func roundTripReturnsTheServersReply() async throws {
        let server = try ReplySocket()
        let url = try listenOnFreePort(server)
        let serving = startServer(server)
        let client = try RequestSocket(options: clientOptions())
        try client.dial(url)

        let request = testBytes(count: 100, seed: 1)
        let reply = try await client.request(request)
        #expect(reply == Array(request.reversed()))

        client.close()
        server.close()
        try await serving.value
    }

    @Test func manyClientsOnSeveralContextsGetOnlyTheirOwnReplies() async throws {
        let server = try ReplySocket()
        let url = try listenOnFreePort(server)
        // The reply tags the request so any cross-talk changes the bytes.
        let serving = startServer(server, contexts: 4) { request in
            if request.first == 0 { await Task.yield() }
            return [0xAA] + request
        }
        let clientCount = 8
        let requestsPerClient = 50

        let answered = try await withThrowingTaskGroup(of: Int.self) { group in
            for clientID in 0..<clientCount {
                group.addTask {
                    let client = try RequestSocket(options: clientOptions())
                    defer { client.close() }
                    try client.dial(url)
                    var answered = 0
                    for sequence in 0..<requestsPerClient {
                        let request = [UInt8(sequence % 2), UInt8(clientID), UInt8(sequence)]
                            + testBytes(count: 16 + sequence, seed: UInt64(clientID * 1000 + sequence))
                        let reply = try await client.request(request)
                        #expect(reply == [0xAA] + request)
                        answered += 1
                    }
                    return answered
                }
            }
            return try await group.reduce(0, +)
        }
        #expect(answered == clientCount * requestsPerClient)

        server.close()
        try await serving.value
    }

    @Test func concurrentRequestsOnOneContextAreSerialised() async throws {
        // Without serialisation a second send on a REQ context aborts the
        // first request (and 1.5.2 can crash), so some of these would fail.
        let server = try ReplySocket()
        let url = try listenOnFreePort(server)
        let serving = startServer(server, contexts: 2)
        let client = try RequestSocket(options: clientOptions())
        try client.dial(url)

        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 {
                group.addTask {
                    let request = testBytes(count: 32, seed: UInt64(index))
                    let reply = try await client.request(request)
                    #expect(reply == Array(request.reversed()))
                }
            }
            try await group.waitForAll()
        }

        client.close()
        server.close()
        try await serving.value
    }

    @Test func extraRequestContextsRunIndependently() async throws {
        let server = try ReplySocket()
        let url = try listenOnFreePort(server)
        let serving = startServer(server, contexts: 3)
        let client = try RequestSocket(options: clientOptions())
        try client.dial(url)
        let contexts = try (0..<3).map { _ in try client.makeContext() }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, context) in contexts.enumerated() {
                group.addTask {
                    for round in 0..<10 {
                        let request = testBytes(count: 8, seed: UInt64(index * 100 + round))
                        let reply = try await context.request(request)
                        #expect(reply == Array(request.reversed()))
                    }
                }
            }
            try await group.waitForAll()
        }

        contexts.forEach { $0.close() }
        client.close()
        server.close()
        try await serving.value
    }

    // MARK: - Timeouts and cancellation

    @Test func unansweredRequestTimesOutWithTypedError() async throws {
        // A REP socket nobody serves: the request is delivered, no reply comes.
        let server = try ReplySocket()
        let url = try listenOnFreePort(server)
        let client = try RequestSocket(options: clientOptions(receiveTimeout: .milliseconds(200)))
        try client.dial(url)

        let clock = ContinuousClock()
        let start = clock.now
        await #expect(throws: NNGError.timedOut) {
            _ = try await client.request([1, 2, 3])
        }
        #expect(clock.now - start >= .milliseconds(150))

        client.close()
        server.close()
    }

    @Test func receiveTimeoutOnReplyContextFires() async throws {
        let server = try ReplySocket(options: SocketOptions(receiveTimeout: .milliseconds(100)))
        _ = try listenOnFreePort(server)
        let context = try server.makeContext()
        await #expect(throws: NNGError.timedOut) {
            _ = try await context.receive()
        }
        server.close()
    }

    @Test func cancellingAPendingReceiveThrowsCancellationError() async throws {
        let server = try ReplySocket()
        _ = try listenOnFreePort(server)
        let context = try server.makeContext()
        let receiving = testTask { try await context.receive() }
        try await Task.sleep(for: .milliseconds(50))
        receiving.cancel()
        await #expect(throws: CancellationError.self) {
            _ = try await receiving.value
        }
        server.close()
    }

    @Test func cancelledRequestLeavesTheContextUsable() async throws {
        let server = try ReplySocket()
        let url = try listenOnFreePort(server)
        let client = try RequestSocket(options: clientOptions(receiveTimeout: nil))
        try client.dial(url)

        let pending = testTask { try await client.request([9]) }
        try await Task.sleep(for: .milliseconds(50))
        pending.cancel()
        await #expect(throws: CancellationError.self) {
            _ = try await pending.value
        }

        let serving = startServer(server)
        #expect(try await client.request([1, 2]) == [2, 1])

        client.close()
        server.close()
        try await serving.value
    }

    @Test func alreadyCancelledTaskDoesNotStartARequest() async throws {
        let client = try RequestSocket(options: clientOptions())
        let attempt = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await client.request([1])
        }
        await #expect(throws: CancellationError.self) {
            _ = try await attempt.value
        }
        client.close()
    }

    // MARK: - Shutdown

    @Test func closingTheSocketFailsPendingOperationsWithClosed() async throws {
        let server = try ReplySocket()
        _ = try listenOnFreePort(server)
        let context = try server.makeContext()
        let receiving = testTask { try await context.receive() }
        try await Task.sleep(for: .milliseconds(50))
        server.close()
        await #expect(throws: NNGError.closed) {
            _ = try await receiving.value
        }
        // Closing again, and closing a context of a closed socket, are harmless.
        server.close()
        context.close()
    }

    @Test func serveNeedsAtLeastOneContext() async throws {
        let server = try ReplySocket()
        await #expect(throws: NNGError.invalidArgument) {
            try await server.serve(contexts: 0) { $0 }
        }
        server.close()
    }

    @Test func cancellingServeStopsItsWorkers() async throws {
        let server = try ReplySocket()
        let url = try listenOnFreePort(server)
        let serving = startServer(server, contexts: 2)
        // The first round trip only shows that the workers serve (they run on an executor of their own,
        // so a busy cooperative pool cannot delay them past the client's timeout).
        let client = try RequestSocket(options: clientOptions())
        try client.dial(url)
        #expect(try await client.request([1, 2]) == [2, 1])

        serving.cancel()
        await #expect(throws: CancellationError.self) { try await serving.value }
        // Nobody answers any more, but the socket itself is still open: a request now times out.
        let late = try RequestSocket(options: clientOptions(receiveTimeout: .milliseconds(200)))
        try late.dial(url)
        await #expect(throws: NNGError.timedOut) { _ = try await late.request([3]) }

        late.close()
        client.close()
        server.close()
    }

    @Test func serveReturnsWhenTheSocketCloses() async throws {
        let server = try ReplySocket()
        _ = try listenOnFreePort(server)
        let serving = startServer(server, contexts: 3)
        try await Task.sleep(for: .milliseconds(20))
        server.close()
        try await serving.value
    }
}
