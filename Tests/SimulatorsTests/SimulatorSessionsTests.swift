import Simulators
import Testing
import Wire

/// `SimulatorSessions`: which welcomed simulator each nng pipe belongs to.
struct SimulatorSessionsTests {
    let t0 = ContinuousClock.now

    func simulatorHello(run: UInt64, values: Bool = false) -> Hello {
        Hello(role: .simulator, capabilities: values ? [.valueEstimates] : [], actorID: 0, runID: run,
              clientName: "test", clientVersion: "0", authToken: [], envID: "Pendulum-v1",
              observationSpace: pendulumObservation, actionSpace: pendulumAction)
    }

    // MARK: - Welcome

    @Test func eachRunGetsItsOwnSessionAndPipesFindIt() throws {
        var sessions = SimulatorSessions(maxSessions: 4)
        let welcomedA = sessions.welcome(simulatorHello(run: 1), pipe: 10, now: t0)
        let welcomedB = sessions.welcome(simulatorHello(run: 2, values: true), pipe: 11, now: t0)
        let a = try #require(welcomedA)
        let b = try #require(welcomedB)
        #expect(a.session != b.session)
        #expect(!a.valuesGranted && b.valuesGranted)
        #expect(sessions.entry(onPipe: 10)?.session == a.session)
        #expect(sessions.entry(onPipe: 11)?.session == b.session)
        #expect(sessions.entry(onPipe: 12) == nil)
    }

    @Test func aReconnectedRunKeepsItsSession() throws {
        var sessions = SimulatorSessions(maxSessions: 4)
        let first = sessions.welcome(simulatorHello(run: 7), pipe: 1, now: t0)
        let again = sessions.welcome(simulatorHello(run: 7), pipe: 2, now: t0)
        #expect(first != nil && first?.session == again?.session && sessions.count == 1)
        #expect(sessions.entry(onPipe: 2)?.session == first?.session)
    }

    @Test func theSessionLimitRefusesNewRunsOnly() {
        var sessions = SimulatorSessions(maxSessions: 1)
        let first = sessions.welcome(simulatorHello(run: 1), pipe: 1, now: t0)
        let second = sessions.welcome(simulatorHello(run: 2), pipe: 2, now: t0)
        let reconnected = sessions.welcome(simulatorHello(run: 1), pipe: 3, now: t0)
        #expect(first != nil && second == nil && reconnected != nil)
    }

    // MARK: - Evaluation, goodbye, eviction

    @Test func aSessionIsEvaluationOnlyUntilItAsksForAStochasticAction() {
        var sessions = SimulatorSessions(maxSessions: 2)
        _ = sessions.welcome(simulatorHello(run: 1), pipe: 1, now: t0)
        let flags = [true, nil, false, true].map { sessions.session(onPipe: 1, deterministic: $0, now: t0)?.evaluationOnly }
        #expect(flags == [true, true, false, false])
    }

    @Test func goodbyeEndsTheSessionOfThatPipe() {
        var sessions = SimulatorSessions(maxSessions: 2)
        let entry = sessions.welcome(simulatorHello(run: 1), pipe: 1, now: t0)
        let ended = sessions.end(pipe: 1)
        let again = sessions.end(pipe: 1)
        #expect(entry != nil && ended == entry?.session && again == nil && sessions.count == 0)
        #expect(sessions.entry(onPipe: 1) == nil)
    }

    @Test func silentSessionsAreEvictedAndRequestsKeepOthersAlive() {
        var sessions = SimulatorSessions(maxSessions: 4)
        let quiet = sessions.welcome(simulatorHello(run: 1), pipe: 1, now: t0)
        _ = sessions.welcome(simulatorHello(run: 2), pipe: 2, now: t0)
        _ = sessions.session(onPipe: 2, now: t0 + .seconds(2))
        let evicted = sessions.evict(olderThan: .seconds(3), now: t0 + .seconds(4))
        #expect(evicted == [quiet?.session].compactMap { $0 })
        #expect(sessions.entry(onPipe: 1) == nil && sessions.entry(onPipe: 2) != nil)
    }
}
