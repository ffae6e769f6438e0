import Testing
@testable import Transport

@Suite(.ownExecutor) struct PipelineTests {
    // MARK: - PUSH/PULL

    @Test func pullReceivesEveryPushedMessageInOrder() async throws {
        let pull = try PullSocket(options: clientOptions())
        let url = try listenOnFreePort(pull)
        let push = try PushSocket(options: clientOptions())
        try push.dial(url)

        let messages = (0..<100).map { testBytes(count: 1 + $0 * 37, seed: UInt64($0)) }
        let sending = testTask {
            for message in messages { try await push.send(message) }
        }
        var received: [[UInt8]] = []
        for _ in messages { received.append(try await pull.receive()) }
        try await sending.value
        #expect(received == messages)

        push.close()
        pull.close()
    }

    @Test func pullReceiveTimesOut() async throws {
        let pull = try PullSocket(options: clientOptions(receiveTimeout: .milliseconds(50)))
        _ = try listenOnFreePort(pull)
        await #expect(throws: NNGError.timedOut) { _ = try await pull.receive() }
        pull.close()
    }

    // MARK: - PAIR

    @Test func pairExchangesMessagesBothWays() async throws {
        let left = try PairSocket(options: clientOptions())
        let right = try PairSocket(options: clientOptions())
        try left.listen("inproc://transport-pair-test")
        try right.dial("inproc://transport-pair-test")

        try await left.send([1, 2, 3])
        #expect(try await right.receive() == [1, 2, 3])
        try await right.send([4])
        #expect(try await left.receive() == [4])

        left.close()
        right.close()
    }

    @Test func sendOnClosedSocketThrowsClosed() async throws {
        let push = try PushSocket(options: clientOptions())
        push.close()
        await #expect(throws: NNGError.closed) { try await push.send([1]) }
    }
}
