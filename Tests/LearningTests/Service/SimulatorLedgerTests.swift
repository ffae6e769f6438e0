import Learning
import Simulators
import Testing
import Wire

/// The ledger's side of simulators: shared spaces, admission, stored transitions.
struct SimulatorLedgerTests {
    let t0 = ContinuousClock.now

    @Test func simulatorsAreWelcomedAndHeldToTheSpaces() throws {
        let ledger = LedgerBox(try makeLedger())
        #expect(ledger.hello(hello(actor: 0, run: 1, role: .simulator), now: t0).isWelcome)
        let other = Space(shape: [4], low: -1, high: 1)
        #expect(ledger.hello(hello(actor: 0, run: 2, observation: other, role: .simulator), now: t0).errorCode
                == .spaceMismatch)
    }

    @Test func aPresetAdoptsTheFirstSimulatorsSpaces() throws {
        var ledger = try makeLedger()
        ledger = IngestLedger(settings: ledger.settings, spec: try #require(EnvironmentSpec.preset("hopper")),
                              limiter: ledger.limiter, learnerRunID: 1)
        let hopperObservation = Space(shape: [11], low: -1, high: 1)
        let hopperAction = Space(shape: [3], low: -1, high: 1)
        let first = Hello(role: .simulator, actorID: 0, runID: 1, clientName: "t", clientVersion: "0", authToken: [],
                          envID: "Hopper-v4", observationSpace: hopperObservation, actionSpace: hopperAction)
        #expect(ledger.spaces == nil)
        let welcomed = ledger.hello(first, now: t0)
        #expect(welcomed.isWelcome)
        #expect(ledger.spaces?.observationSize == 11 && ledger.envID == "Hopper-v4")
    }

    @Test func admissionFollowsTheQueueAndStoredTransitionsCount() throws {
        var ledger = try makeLedger(queueCapacity: 8)
        let peer = PeerKey(actorID: 0, runID: 1)
        _ = ledger.hello(hello(actor: 0, run: 1, role: .simulator), now: t0)
        let open = ledger.simulatorAdmission(4, now: t0)
        #expect(open == nil)
        ledger.enqueueSimulatorTransitions(batch(actor: 0, run: 1, seq: 0, count: 4), peer: peer, actingVersion: 0, now: t0)
        ledger.enqueueSimulatorTransitions(batch(actor: 0, run: 1, seq: 0, count: 4), peer: peer, actingVersion: 0, now: t0)
        #expect(ledger.acceptedTransitions == 8 && ledger.queuedTransitions == 8)
        let full = ledger.simulatorAdmission(1, now: t0)
        let nothing = ledger.simulatorAdmission(0, now: t0)
        ledger.beginShutdown(.stopping)
        let stopping = ledger.simulatorAdmission(0, now: t0)
        #expect(full?.code == .tryLater && nothing == nil && stopping?.code == .shuttingDown)
    }
}
