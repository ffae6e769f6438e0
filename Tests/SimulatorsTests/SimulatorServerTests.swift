import Foundation
import MEow
import Replay
import Simulators
import Synchronization
import Tensor
import Testing
import Wire

/// `SimulatorServer`: ACTION_REQUEST rows in, transitions to the sink, batched actions out.
struct SimulatorServerTests {
    // MARK: - Fixtures

    /// A sink that records what it stores and can be told to refuse room.
    final class RecordingSink: SimulatorSink, @unchecked Sendable {
        private let lock = NSLock()
        private var storedBatches: [Replay.TransitionBatch] = []
        private var preparedCount = 0
        private var evaluatingFlags: [Bool] = []
        var blocked = false
        /// Rings each time a request is told to wait.
        let waits: AsyncStream<Void>
        private let waited: AsyncStream<Void>.Continuation

        init() {
            (waits, waited) = AsyncStream.makeStream(of: Void.self)
        }

        var agreedSpaces: AgreedSpaces? { AgreedSpaces(observation: pendulumObservation, action: pendulumAction) }

        func admit(upTo count: Int, store: Bool, evaluating: Bool, peer: PeerKey, actingVersion: UInt64,
                   prepare: () throws(SimulatorError) -> PreparedRequest) throws(SimulatorError) -> SimulatorAdmission {
            lock.lock()
            defer { lock.unlock() }
            evaluatingFlags.append(evaluating)
            // As the learner's sink: only a simulator that owes an evaluation round passes a full limiter.
            if blocked && count > 0 && !evaluating {
                waited.yield()
                return .wait(ErrorReply(code: .tryLater, retryAfterMs: 5, text: "full"))
            }
            preparedCount += 1
            let prepared = try prepare()
            if store && prepared.transitions.count > 0 { storedBatches.append(prepared.transitions) }
            return .prepared(prepared)
        }

        var stored: [Replay.TransitionBatch] { lock.withLock { storedBatches } }
        var prepares: Int { lock.withLock { preparedCount } }
        var evaluating: [Bool] { lock.withLock { evaluatingFlags } }
        func setBlocked(_ value: Bool) { lock.withLock { blocked = value } }
    }

    /// Weights the test publishes.
    final class Snapshots: SimulatorWeightsSource {
        let latest = Mutex<(version: UInt64, tensors: [NamedTensor])?>(nil)

        func snapshot(newerThan held: UInt64?) -> (version: UInt64, tensors: [NamedTensor])? {
            latest.withLock { current in
                guard let current, held.map({ current.version > $0 }) ?? true else { return nil }
                return current
            }
        }
    }

    static func config(seed: UInt64) -> MEowConfig {
        var config = MEowConfig()
        (config.flowHidden, config.shiftHidden, config.seed) = (16, 16, seed)
        return config
    }

    static func makeAgent(seed: UInt64 = 1) throws -> MEowAgent {
        try MEowAgent(config: config(seed: seed), observationDimension: 3, actionDimension: 1)
    }

    func makeServer(sink: RecordingSink, weights: Snapshots = Snapshots(), budget: Duration = .seconds(5),
                    evaluator: SimulatorEvaluator? = nil) -> SimulatorServer {
        var settings = SimulatorServerSettings()
        settings.requestBudget = budget
        // A loaded test machine can starve the server thread for seconds; eviction is tested elsewhere.
        settings.peerTimeout = .seconds(600)
        let server = SimulatorServer(settings: settings, sink: sink, weights: weights, metrics: nil,
                                     evaluator: evaluator, makeAgent: { _ in try Self.makeAgent() })
        server.start()
        return server
    }

    func simulatorHello(run: UInt64, values: Bool = false) -> Hello {
        Hello(role: .simulator, capabilities: values ? [.valueEstimates] : [], actorID: 0, runID: run,
              clientName: "test", clientVersion: "0", authToken: [], envID: "Pendulum-v1",
              observationSpace: pendulumObservation, actionSpace: pendulumAction)
    }

    func request(_ rows: [(id: UInt64, event: ActionEvent, obs: [Float], reward: Float, flags: UInt8)],
                 deterministic: Bool = false, wantValues: Bool = false) -> ActionRequest {
        ActionRequest(deterministic: deterministic, wantValues: wantValues, observationSize: 3, actionSize: 1,
                      episodeIDs: rows.map(\.id), observations: rows.flatMap(\.obs),
                      previousRewards: rows.map(\.reward), events: rows.map(\.event),
                      previousDoneFlags: rows.map(\.flags))
    }

    func reply(_ served: SimulatorReply) throws -> ActionReply {
        try reply(served.message)
    }

    func reply(_ message: Message) throws -> ActionReply {
        guard case .actionReply(let reply) = message else {
            Issue.record("expected ACTION_REPLY, got \(message)")
            throw CancellationError()
        }
        return reply
    }

    // MARK: - Rows to transitions

    @Test func rowsBecomeTransitionsAndWarmUpActionsAreUniform() async throws {
        let sink = RecordingSink()
        let server = makeServer(sink: sink)
        defer { server.stop() }
        #expect(server.welcome(simulatorHello(run: 1), pipe: 1) != nil)
        let first = try reply(await server.serve(request([(9, .start, [1, 0, 0.5], 0, 0)]), requestID: 1, pipe: 1))
        #expect(first.actions.count == 1 && abs(first.actions[0]) <= 1 && first.policyVersion == 0)
        let second = try reply(await server.serve(request([(9, .step, [0, 1, -0.5], -2, 0)]), requestID: 2, pipe: 1))
        let stored = try #require(sink.stored.first)
        #expect(sink.stored.count == 1 && stored.count == 1)
        #expect(stored.observations == [1, 0, 0.5] && stored.nextObservations == [0, 1, -0.5])
        #expect(stored.actions == first.actions && stored.rewards == [-2] && stored.terminations == [0])
        _ = try reply(await server.serve(request([(9, .end, [0, 1, 0], -1, DoneFlags.terminated.rawValue)]),
                                         requestID: 3, pipe: 1))
        #expect(sink.stored.last?.actions == second.actions && sink.stored.last?.terminations == [1])
        #expect(server.stats().transitions == 2 && server.stats().episodesEnded == 1)
    }

    @Test func unknownPipesMustSayHelloFirst() async {
        let server = makeServer(sink: RecordingSink())
        defer { server.stop() }
        let answer = await server.serve(request([(1, .start, [0, 0, 0], 0, 0)]), requestID: 1, pipe: 99)
        #expect(answer.errorCode == .notWelcome)
    }

    // MARK: - Evaluation

    @Test func evaluationStaysOutOfTheSinkIncludingItsFinalFlush() async throws {
        let sink = RecordingSink()
        let server = makeServer(sink: sink)
        defer { server.stop() }
        _ = server.welcome(simulatorHello(run: 2), pipe: 1)
        _ = try reply(await server.serve(request([(5, .start, [1, 0, 0], 0, 0)], deterministic: true),
                                         requestID: 1, pipe: 1))
        _ = try reply(await server.serve(request([(5, .step, [1, 0, 0.1], -1, 0)], deterministic: true),
                                         requestID: 2, pipe: 1))
        // The client's flush sends the END row without the DETERMINISTIC flag.
        _ = try reply(await server.serve(request([(5, .end, [1, 0, 0.2], -1, DoneFlags.truncated.rawValue)]),
                                         requestID: 3, pipe: 1))
        #expect(sink.stored.isEmpty && server.stats().transitions == 0)
        #expect(server.entry(onPipe: 1)?.evaluationOnly == true)
    }

    @Test func aRoundRunsThroughAGrantedSimulatorPastAFullLimiterAndIsRecorded() async throws {
        let sink = RecordingSink()
        let evaluator = SimulatorEvaluator()
        let weights = Snapshots()
        let policy = try Self.makeAgent(seed: 5)
        weights.latest.withLock { $0 = (3, policy.policyTensors()) }
        let server = makeServer(sink: sink, weights: weights, evaluator: evaluator)
        defer { server.stop() }
        var hello = simulatorHello(run: 9)
        hello.capabilities = [.evaluation]
        #expect(server.welcome(hello, pipe: 1)?.evaluationGranted == true)
        // A training episode runs; then the round opens and the limiter is full.
        _ = try reply(await server.serve(request([(1, .start, [0, 0, 0], 0, 0)]), requestID: 1, pipe: 1))
        evaluator.withSchedule { $0.open(step: 100, episodes: 1) }
        sink.setBlocked(true)
        let told = await server.serve(request([(1, .step, [0, 0, 1], -1, 0)]), requestID: 2, pipe: 1)
        #expect(try EvaluationAssignment.find(in: told.extensions)?.seeds == [0])
        _ = try reply(told)  // not held: the simulator must reach its next reset
        // The next request ends the training episode and starts the evaluation episode of seed 0.
        let observation: [Float] = [0.5, 0.5, 0]
        let starts = try EvaluationStarts(episodeIDs: [2], seeds: [0]).record()
        let first = try reply(await server.serve(
            request([(1, .end, [0, 0, 2], -1, DoneFlags.truncated.rawValue), (2, .start, observation, 0, 0)]),
            requestID: 3, pipe: 1, extensions: [starts]))
        var rng = Xoshiro256(seed: 0)
        #expect(Array(first.actions[1...]) == policy.act(observations: observation, count: 1, deterministic: true, rng: &rng))
        let stored = sink.stored.reduce(0) { $0 + $1.count }
        _ = try reply(await server.serve(request([(2, .step, [0.4, 0.4, 0], -0.5, 0)]), requestID: 4, pipe: 1))
        _ = try reply(await server.serve(request([(2, .end, [0.3, 0.3, 0], -0.25, DoneFlags.truncated.rawValue)]),
                                         requestID: 5, pipe: 1))
        // Its transitions stayed out; the round completed with the return the rows carried.
        #expect(sink.stored.reduce(0) { $0 + $1.count } == stored)
        let rounds = evaluator.withSchedule { $0.takeCompleted() }
        #expect(rounds.count == 1 && rounds.first?.step == 100 && rounds.first?.meanReturn == -0.75)
        #expect(server.stats().evaluationEpisodes == 1 && sink.evaluating.suffix(4).allSatisfy { $0 })
    }

    // MARK: - Backpressure and budgets

    @Test func aFullSinkMakesTheRequestWaitThenTryLaterWithNothingApplied() async throws {
        let sink = RecordingSink()
        let server = makeServer(sink: sink, budget: .milliseconds(60))
        defer { server.stop() }
        _ = server.welcome(simulatorHello(run: 3), pipe: 1)
        _ = try reply(await server.serve(request([(4, .start, [0, 0, 0], 0, 0)]), requestID: 1, pipe: 1))
        sink.setBlocked(true)
        let began = ContinuousClock.now
        let answer = await server.serve(request([(4, .step, [0, 0, 1], 1, 0)]), requestID: 2, pipe: 1)
        #expect(answer.errorCode == .tryLater)
        #expect(ContinuousClock.now - began >= .milliseconds(60))
        #expect(server.stats().timeouts == 1 && sink.prepares == 1)
        // Nothing was applied: the same step, resent once there is room, completes the transition.
        sink.setBlocked(false)
        _ = try reply(await server.serve(request([(4, .step, [0, 0, 1], 1, 0)]), requestID: 3, pipe: 1))
        #expect(sink.stored.count == 1 && sink.stored[0].rewards == [1])
    }

    @Test func aWaitingRequestIsServedOnceTheSinkSaysThereIsRoom() async throws {
        let sink = RecordingSink()
        // A budget no test run reaches: only the wake-up can answer the request with actions.
        let server = makeServer(sink: sink, budget: .seconds(600))
        defer { server.stop() }
        _ = server.welcome(simulatorHello(run: 3), pipe: 1)
        _ = try reply(await server.serve(request([(4, .start, [0, 0, 0], 0, 0)]), requestID: 1, pipe: 1))
        sink.setBlocked(true)
        var waits = sink.waits.makeAsyncIterator()
        let pending = Task { await server.serve(request([(4, .step, [0, 0, 1], 1, 0)]), requestID: 2, pipe: 1) }
        _ = await waits.next()
        sink.setBlocked(false)
        server.roomMayHaveChanged()
        _ = try reply(await pending.value)
        #expect(sink.stored.count == 1 && server.stats().timeouts == 0)
    }

    // MARK: - Weights and values

    @Test func newerWeightsAreLoadedBeforeActing() async throws {
        let weights = Snapshots()
        let other = try Self.makeAgent(seed: 77)
        weights.latest.withLock { $0 = (5, other.policyTensors()) }
        let server = makeServer(sink: RecordingSink(), weights: weights)
        defer { server.stop() }
        _ = server.welcome(simulatorHello(run: 4), pipe: 1)
        let observation: [Float] = [0.3, -0.2, 1.5]
        let answer = try reply(await server.serve(request([(1, .start, observation, 0, 0)], deterministic: true),
                                                  requestID: 1, pipe: 1))
        var rng = Xoshiro256(seed: 0)
        let expected = other.act(observations: observation, count: 1, deterministic: true, rng: &rng)
        #expect(answer.policyVersion == 5 && answer.actions == expected)
        #expect(server.stats().policyVersion == 5)
    }

    @Test func valuesComeOnlyWhenGranted() async throws {
        let server = makeServer(sink: RecordingSink())
        defer { server.stop() }
        _ = server.welcome(simulatorHello(run: 5, values: true), pipe: 1)
        _ = server.welcome(simulatorHello(run: 6), pipe: 2)
        let rows = request([(1, .start, [1, 0, 0], 0, 0), (2, .start, [0, 1, 0], 0, 0)], wantValues: true)
        let granted = try reply(await server.serve(rows, requestID: 1, pipe: 1))
        #expect(granted.values?.count == 2 && granted.values?.allSatisfy(\.isFinite) == true)
        let refused = try reply(await server.serve(rows, requestID: 1, pipe: 2))
        #expect(refused.values == nil)
    }

    // MARK: - Sessions

    @Test func goodbyeForgetsTheSessionsEpisodesOnly() async throws {
        let sink = RecordingSink()
        let server = makeServer(sink: sink)
        defer { server.stop() }
        _ = server.welcome(simulatorHello(run: 7), pipe: 1)
        _ = server.welcome(simulatorHello(run: 8), pipe: 2)
        _ = try reply(await server.serve(request([(1, .start, [0, 0, 0], 0, 0)]), requestID: 1, pipe: 1))
        _ = try reply(await server.serve(request([(2, .start, [0, 0, 0], 0, 0)]), requestID: 1, pipe: 2))
        #expect(server.goodbye(pipe: 1))
        _ = server.welcome(simulatorHello(run: 7), pipe: 3)
        // Episode 1 is gone: its STEP starts it afresh (no transition); episode 2 goes on.
        _ = try reply(await server.serve(request([(1, .step, [0, 0, 1], 1, 0)]), requestID: 2, pipe: 3))
        _ = try reply(await server.serve(request([(2, .step, [0, 0, 1], 1, 0)]), requestID: 2, pipe: 2))
        #expect(sink.stored.count == 1 && server.stats().episodesEvicted == 1)
    }
}

extension SimulatorReply {
    var errorCode: ErrorCode? { message.errorCode }
}
