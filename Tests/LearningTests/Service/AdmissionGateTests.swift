import Learning
import Simulators
import Testing
import Wire

/// `AdmissionGate`: HELLO checks, room and backpressure, the step budget and shutdown, on their own.
@Suite struct AdmissionGateTests {
    let now = ContinuousClock.now

    private func gate(token: [UInt8]? = nil, maxStaleness: Int? = nil, totalSteps: Int? = nil) throws -> AdmissionGate {
        let ledger = try makeLedger(token: token, maxStaleness: maxStaleness, totalSteps: totalSteps)
        return AdmissionGate(settings: ledger.settings, limiter: ledger.limiter)
    }

    // MARK: - HELLO

    @Test func helloChecksVersionThenToken() throws {
        let gate = try gate(token: Array("secret".utf8))
        var future = hello(token: Array("secret".utf8))
        future.minVersion = ProtocolVersion(major: WireV1.version.major + 1, minor: 0)
        future.maxVersion = future.minVersion
        #expect(gate.helloRefusal(future)?.code == .unsupportedVersion)
        #expect(gate.helloRefusal(hello(token: Array("secreT".utf8)))?.code == .authFailed)
        #expect(gate.helloRefusal(hello(token: Array("secret".utf8))) == nil)
    }

    @Test func aStopAsksPeersBackAndTheEndOfTheRunDoesNot() throws {
        var gate = try gate()
        gate.beginShutdown(.stopping)
        #expect(gate.stopRequested && gate.helloRefusal(hello())?.retryAfterMs == 1000)
        #expect(gate.shutdownError(failedType: MessageType.transitions.rawValue)?.code == .shuttingDown)
        gate.beginShutdown(.finished)
        #expect(gate.helloRefusal(hello())?.retryAfterMs == 0)
        // Finished is final: a later signal does not turn it back into "come back later".
        gate.beginShutdown(.stopping)
        #expect(gate.shutdown == .finished)
    }

    // MARK: - Batches

    @Test func batchLimitsAndStaleness() throws {
        let gate = try gate(maxStaleness: 5)
        #expect(gate.limitViolation(in: batch(seq: 0, count: 16)) == nil)
        #expect(gate.limitViolation(in: batch(seq: 0, count: 17))?.code == .lengthOverLimit)
        #expect(!gate.isTooStale(lag: 5) && gate.isTooStale(lag: 6))
        #expect(try !self.gate().isTooStale(lag: .max), "no --max-staleness: nothing is too stale")
    }

    // MARK: - Room and backpressure

    @Test func peersTurnedAwayAreSpreadOutUntilTheGateOpens() throws {
        var gate = try gate()
        var reserved = 0
        while gate.refuseRoom(for: 4, peer: PeerKey(actorID: 1, runID: 1), secondsPerUpdate: 0.01, now: now) == nil {
            gate.reserve(4, now: now)
            reserved += 4
        }
        #expect(gate.queuedTransitions == reserved && gate.acceptedTransitions == reserved)
        let first = gate.refuseRoom(for: 4, peer: PeerKey(actorID: 1, runID: 1), secondsPerUpdate: 0.01, now: now)
        let second = gate.refuseRoom(for: 4, peer: PeerKey(actorID: 2, runID: 1), secondsPerUpdate: 0.01, now: now)
        let (firstWait, secondWait) = (try #require(first), try #require(second))
        #expect(secondWait > firstWait, "the second peer waits behind the first")
        // An empty batch passes and opens the gate: the time it stayed closed is counted, the queue forgotten.
        let empty = gate.refuseRoom(for: 0, peer: nil, secondsPerUpdate: 0.01, now: now)
        #expect(empty == nil)
        gate.reserve(0, now: now + .milliseconds(50))
        #expect(gate.insertBlocked == .milliseconds(50))
        let third = gate.refuseRoom(for: 4, peer: PeerKey(actorID: 3, runID: 1), secondsPerUpdate: 0.01, now: now)
        #expect(try #require(third) < secondWait, "the queue of waiting peers starts over")
    }

    @Test func theRetryEstimateIsClamped() throws {
        let gate = try gate()
        #expect(gate.retryAfterMs(inserting: 1, secondsPerUpdate: 0) == 5)
        #expect(gate.retryAfterMs(inserting: 10_000, secondsPerUpdate: 10) == 1000)
    }

    @Test func theStepBudgetFinishesTheRunAndAFailedWriteReopensIt() throws {
        var gate = try gate(totalSteps: 8)
        gate.reserve(8, now: now)
        #expect(gate.shutdown == .finished)
        gate.release(4)
        #expect(gate.shutdown == .running && gate.acceptedTransitions == 4 && gate.queuedTransitions == 4)
    }

    // MARK: - Training thread side

    @Test func onlyEnqueuedBatchesReachTheTrainingThread() throws {
        var gate = try gate()
        gate.reserve(4, now: now)
        #expect(!gate.hasWork, "room held for a batch on its way to disk is not work yet")
        #expect(gate.queuedTransitions == 4 && !gate.hasQueuedBatches, "nor a batch to drain")
        gate.enqueue(batch(seq: 0))
        gate.enqueue(batch(seq: 1, count: 0))
        #expect(gate.hasWork && gate.hasQueuedBatches)
        let drained = gate.drain()
        #expect(drained.map(\.seq) == [0])
        #expect(!gate.hasQueuedBatches)
        gate.recordInserted(4, overwritten: 0, replaySize: 4)
        #expect(gate.queuedTransitions == 0 && gate.replaySize == 4 && gate.limiter.inserts == 4)
    }

    @Test func aResumeContinuesTheStepsAndMayFinishAtOnce() throws {
        var gate = try gate(totalSteps: 100)
        gate.continueSteps(at: 60)
        gate.continueSteps(at: 40)
        #expect(gate.acceptedTransitions == 60 && gate.shutdown == .running)
        gate.continueSteps(at: 100)
        #expect(gate.shutdown == .finished)
    }
}
