import Learning
import Replay
import Simulators
import Testing
import Wire

@Suite struct IngestLedgerTests {
    let now = ContinuousClock.now

    // MARK: - HELLO

    @Test func welcomesAnActorWithTheAgreedSpaces() throws {
        let ledger = LedgerBox(try makeLedger())
        guard case .welcome(let welcome) = ledger.hello(hello(), now: now) else {
            Issue.record("expected WELCOME")
            return
        }
        #expect(welcome.learnerRunID == 42)
        #expect(welcome.envID == "Pendulum-v1")
        #expect(ledger.liveActors == 1)
    }

    @Test func refusesDifferentSpaces() throws {
        let ledger = LedgerBox(try makeLedger())
        let reply = ledger.hello(hello(observation: Space(shape: [4], low: -1, high: 1)), now: now)
        #expect(reply.errorCode == .spaceMismatch)
        #expect(ledger.liveActors == 0)
    }

    @Test func refusesAWrongOrMissingToken() throws {
        let ledger = LedgerBox(try makeLedger(token: Array("secret".utf8)))
        #expect(ledger.hello(hello(token: []), now: now).errorCode == .authFailed)
        #expect(ledger.hello(hello(token: Array("secreT".utf8)), now: now).errorCode == .authFailed)
        #expect(ledger.hello(hello(token: Array("secret!".utf8)), now: now).errorCode == .authFailed)
        #expect(ledger.hello(hello(token: Array("secret".utf8)), now: now).isWelcome)
        #expect(ledger.refusals[.authFailed] == 3)
    }

    @Test func refusesActorsBeyondTheMaximumWithRetry() throws {
        let ledger = LedgerBox(try makeLedger(maxActors: 1))
        #expect(ledger.hello(hello(actor: 1), now: now).isWelcome)
        guard case .refused(let refused) = ledger.hello(hello(actor: 2), now: now) else {
            Issue.record("expected REFUSED")
            return
        }
        #expect(refused.code == .full && refused.retryAfterMs > 0)
        // A restarted actor (same id, new run) replaces its old process instead of counting twice.
        #expect(ledger.hello(hello(actor: 1, run: 11), now: now).isWelcome)
        #expect(ledger.liveActors == 1)
    }

    @Test func presetAdoptsTheFirstActorsSpacesAndHoldsOthersToThem() throws {
        let ledger = LedgerBox(IngestLedger(settings: try makeLedger().settings,
                                            spec: try #require(EnvironmentSpec.preset("ant")), limiter: .minSize(8),
                                            learnerRunID: 1))
        let action = Space(shape: [8], low: -1, high: 1)
        func antHello(_ actor: UInt32, _ size: Int) -> Hello {
            Hello(role: .actor, actorID: actor, runID: 1, clientName: "t", clientVersion: "0", envID: "Ant-v5",
                  observationSpace: Space(shape: [size], low: -1, high: 1), actionSpace: action)
        }
        #expect(ledger.hello(antHello(1, 30), now: now).errorCode == .spaceMismatch)
        #expect(ledger.hello(antHello(1, 105), now: now).isWelcome)
        #expect(ledger.spaces?.observationSize == 105)
        #expect(ledger.envID == "Ant-v5")
        #expect(ledger.hello(antHello(2, 27), now: now).errorCode == .spaceMismatch)
    }

    // MARK: - TRANSITIONS

    @Test func batchesBeforeHelloAreNotWelcome() throws {
        let ledger = LedgerBox(try makeLedger())
        #expect(ledger.transitions(batch(seq: 0), now: now).reply.errorCode == .notWelcome)
    }

    @Test func duplicatesAreAcknowledgedButStoredOnce() throws {
        let ledger = LedgerBox(try makeLedger())
        _ = ledger.hello(hello(), now: now)
        let first = ledger.transitions(batch(seq: 0), now: now)
        #expect(first.reply.ackStatus == .accepted && first.outcome == .stored)
        let again = ledger.transitions(batch(seq: 0), now: now)
        #expect(again.reply.ackStatus == .duplicate && again.outcome == IngestOutcome.none)
        #expect(ledger.acceptedTransitions == 4)
        #expect(ledger.queuedTransitions == 4)
        #expect(ledger.tallies[1]?.batches == 1)
        #expect(ledger.tallies[1]?.duplicates == 1)
        #expect(ledger.drain().count == 1)
    }

    @Test func batchesFromAnEarlierLearnerRunStayDuplicates() throws {
        let ledger = LedgerBox(try makeLedger())
        ledger.recordSeen(PeerKey(actorID: 1, runID: 10), seq: 0)
        _ = ledger.hello(hello(), now: now)
        #expect(ledger.transitions(batch(seq: 0), now: now).reply.ackStatus == .duplicate)
        #expect(ledger.transitions(batch(seq: 1), now: now).reply.ackStatus == .accepted)
    }

    @Test func aBatchOfTheWrongShapeIsRefusedAndServingContinues() throws {
        let ledger = LedgerBox(try makeLedger())
        _ = ledger.hello(hello(), now: now)
        #expect(ledger.transitions(batch(seq: 0, observationSize: 4), now: now).reply.errorCode == .spaceMismatch)
        #expect(ledger.spaceMismatches == 1)
        #expect(ledger.transitions(batch(seq: 0), now: now).reply.ackStatus == .accepted)
    }

    @Test func stalenessIsLearnerVersionMinusActingVersion() throws {
        let ledger = LedgerBox(try makeLedger())
        _ = ledger.hello(hello(), now: now)
        ledger.recordTraining(policyVersion: 10)
        _ = ledger.transitions(batch(seq: 0, version: 10), now: now)
        _ = ledger.transitions(batch(seq: 1, version: 4), now: now)
        _ = ledger.transitions(batch(seq: 2, version: 7), now: now)
        let summary = try #require(ledger.staleness.summary)
        #expect(summary.min == 0)
        #expect(summary.max == 6)
        #expect(summary.mean == 3)
        #expect(summary.p50 == 3)
        #expect(summary.p99 == 6)
    }

    @Test func stalenessIsCountedPerTransitionFromTheActingVersionsRecord() throws {
        let ledger = LedgerBox(try makeLedger())
        _ = ledger.hello(hello(), now: now)
        ledger.recordTraining(policyVersion: 100)
        // Rows acted by versions 90, 91, 95 and 100: lags 10, 9, 5, 0; the batch's own stamp (90) would say 10.
        var mixed = batch(seq: 0, count: 4, version: 90)
        mixed.actingVersionOffsets = [0, 1, 5, 10]
        _ = ledger.transitions(mixed, now: now)
        let summary = try #require(ledger.staleness.summary)
        #expect(summary.min == 0 && summary.max == 10)
        #expect(summary.mean == 6)
        #expect(summary.p50 == 5)
    }

    @Test func maxStalenessDropsAndCountsOldBatches() throws {
        let ledger = LedgerBox(try makeLedger(maxStaleness: 5))
        _ = ledger.hello(hello(), now: now)
        ledger.recordTraining(policyVersion: 20)
        let old = ledger.transitions(batch(seq: 0, version: 14), now: now)
        #expect(old.outcome == .droppedStale && old.reply.ackStatus == .accepted)
        #expect(ledger.transitions(batch(seq: 1, version: 15), now: now).outcome == .stored)
        #expect(ledger.staleDrops == 1 && ledger.queuedTransitions == 4)
        // Dropped is final: a resend is a duplicate, not a second chance.
        #expect(ledger.transitions(batch(seq: 0, version: 14), now: now).reply.ackStatus == .duplicate)
    }

    @Test func backpressureSaysTryLaterWithoutStoringUntilTheLearnerSamples() throws {
        // 4 samples per insert, min size 8, error buffer 40: D may reach 8·4 + 40 = 72.
        let ledger = LedgerBox(try makeLedger())
        _ = ledger.hello(hello(), now: now)
        var seq: UInt64 = 0
        while ledger.transitions(batch(seq: seq), now: now).reply.ackStatus == .accepted { seq += 1 }
        let refusedSeq = seq
        #expect(ledger.tryLaterReplies == 1)
        guard case .transitionsAck(let ack) = ledger.transitions(batch(seq: refusedSeq), now: now).reply else {
            Issue.record("expected TRANSITIONS_ACK")
            return
        }
        // Not stored: the resend is told to wait again, not that it is a duplicate.
        #expect(ack.status == .tryLater && ack.retryAfterMs >= 5)
        // The training thread inserts what was queued and samples; then the batch fits.
        let queued = ledger.drain().reduce(0) { $0 + $1.count }
        ledger.recordInserted(queued, overwritten: 0, replaySize: queued)
        var samples = 0
        while ledger.reserveSample() { samples += 1 }
        #expect(samples > 0)
        #expect(ledger.transitions(batch(seq: refusedSeq), now: now).reply.ackStatus == .accepted)
    }

    @Test func theQueueBoundRefusesEvenBeforeWarmUp() throws {
        let ledger = LedgerBox(try makeLedger(queueCapacity: 8, limiter: .minSize(100)))
        _ = ledger.hello(hello(), now: now)
        #expect(ledger.transitions(batch(seq: 0), now: now).reply.ackStatus == .accepted)
        #expect(ledger.transitions(batch(seq: 1), now: now).reply.ackStatus == .accepted)
        #expect(ledger.transitions(batch(seq: 2), now: now).reply.ackStatus == .tryLater)
    }

    @Test func theStepBudgetEndsTheRunForPeers() throws {
        let ledger = LedgerBox(try makeLedger(totalSteps: 8))
        _ = ledger.hello(hello(), now: now)
        _ = ledger.transitions(batch(seq: 0), now: now)
        _ = ledger.transitions(batch(seq: 1), now: now)
        #expect(ledger.shutdown == .finished)
        guard case .error(let error) = ledger.transitions(batch(seq: 2), now: now).reply else {
            Issue.record("expected ERROR")
            return
        }
        #expect(error.code == .shuttingDown && error.retryAfterMs == 0)
        guard case .refused(let refused) = ledger.hello(hello(actor: 2), now: now) else {
            Issue.record("expected REFUSED")
            return
        }
        #expect(refused.code == .shuttingDown && refused.retryAfterMs == 0)
    }

    @Test func aSignalAsksPeersToComeBackLater() throws {
        let ledger = LedgerBox(try makeLedger())
        _ = ledger.hello(hello(), now: now)
        ledger.beginShutdown(.stopping)
        #expect(ledger.stopRequested)
        guard case .error(let error) = ledger.transitions(batch(seq: 0), now: now).reply else {
            Issue.record("expected ERROR")
            return
        }
        #expect(error.code == .shuttingDown && error.retryAfterMs > 0)
    }

    // MARK: - Rate limiter ratio

    @Test func oneActorGetsOneUpdatePerStepPastWarmUp() throws {
        // samples per insert = batch size (4): one update per inserted transition past min
        // size 8, never more, as in the single-process loop.
        var configuration = LearnerConfiguration()
        (configuration.samplesPerInsert, configuration.minReplay, configuration.errorBuffer) = (4, 8, 68)
        let ledger = LedgerBox(try makeLedger(totalSteps: 40, limiter: configuration.makeRateLimiter()))
        _ = ledger.hello(hello(), now: now)
        var updates = 0
        var updatesAfterBatch: [Int] = []
        for seq in 0 ..< 10 {
            _ = ledger.transitions(batch(seq: UInt64(seq)), now: now)
            let queued = ledger.drain().reduce(0) { $0 + $1.count }
            ledger.recordInserted(queued, overwritten: 0, replaySize: 4 * (seq + 1))
            while ledger.reserveSample() { updates += 1 }
            updatesAfterBatch.append(updates)
        }
        #expect(ledger.shutdown == .finished)
        #expect(updatesAfterBatch == (1 ... 10).map { max(0, 4 * $0 - 8) })
    }

    // MARK: - Liveness

    @Test func silentPeersAreForgottenAndMustSayHelloAgain() throws {
        let ledger = LedgerBox(try makeLedger())
        _ = ledger.hello(hello(actor: 1), now: now)
        _ = ledger.hello(hello(actor: 2, run: 20), now: now)
        let beat = Heartbeat(actorID: 2, queueLength: 0, runID: 20, policyVersion: 3, envSteps: 50, episodes: 0,
                             batchesSent: 0, batchesAcked: 0, transitionsDropped: 0)
        guard case .heartbeatReply = ledger.heartbeat(beat, now: now + .seconds(2)) else {
            Issue.record("expected HEARTBEAT_REPLY")
            return
        }
        let forgotten = ledger.forgetSilentPeers(now: now + .seconds(3.5), timeout: .seconds(3))
        #expect(forgotten == [PeerKey(actorID: 1, runID: 10)])
        #expect(ledger.transitions(batch(actor: 1, seq: 0), now: now).reply.errorCode == .notWelcome)
        #expect(ledger.peers[PeerKey(actorID: 2, runID: 20)]?.actingVersion == 3)
    }
}
