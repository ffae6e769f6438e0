import Learning
import Simulators
import Testing
import Wire

/// `PeerRegistry`: live peers, runs and their dedupe marks, on their own.
@Suite struct PeerRegistryTests {
    let now = ContinuousClock.now
    let run10 = PeerKey(actorID: 1, runID: 10)
    let run11 = PeerKey(actorID: 1, runID: 11)

    private func registry(maxDormantRuns: Int = 64) -> PeerRegistry {
        PeerRegistry(resendHorizon: .seconds(600), maxDormantRuns: maxDormantRuns)
    }

    // MARK: - Runs

    @Test func aNewRunOfAnActorIDReplacesTheOldOne() {
        var registry = registry()
        let first = registry.startActorRun(run10, now: now)
        #expect(first)
        registry.welcome(run10, role: .actor, now: now)
        registry.openSession(PeerSession(role: .actor, key: run10), pipe: 1, now: now)
        let again = registry.startActorRun(run10, now: now)
        #expect(!again, "the same run again is not new")
        let next = registry.startActorRun(run11, now: now)
        #expect(next)
        registry.welcome(run11, role: .actor, now: now)
        #expect(registry.peers.keys.sorted() == [run11] && registry.sessions.count == 0)
        #expect(registry.liveActors == 1 && registry.liveActors(otherThan: 1) == 0)
        // The old run can send nothing more: its marks went.
        #expect(registry.trackedRuns == 1 && registry.prunedRuns == 1)
    }

    @Test func aRepeatedHelloKeepsTheActingVersion() {
        var registry = registry()
        registry.welcome(run10, role: .actor, now: now)
        registry.recordHeartbeat(Heartbeat(actorID: 1, queueLength: 3, runID: 10, policyVersion: 7, envSteps: 99,
                                           episodes: 0, batchesSent: 0, batchesAcked: 0, transitionsDropped: 0),
                                 now: now)
        registry.raiseActingVersion(of: run10, to: 5)
        #expect(registry.peers[run10]?.actingVersion == 7, "a batch never lowers the acting version")
        registry.welcome(run10, role: .actor, now: now)
        #expect(registry.peers[run10]?.actingVersion == 7)
        #expect(registry.peers[run10]?.reportedEnvSteps == 0, "the rest starts over with the new HELLO")
    }

    // MARK: - Dedupe marks

    @Test func aBatchIsStoredOnlyOnceTheLogHasIt() {
        var registry = registry()
        registry.beginWrite(run10, seq: 0)
        #expect(registry.isInFlight(run10, seq: 0) && !registry.isStored(run10, seq: 0))
        registry.endWrite(run10, seq: 0, stored: false, now: now)
        #expect(!registry.isInFlight(run10, seq: 0) && !registry.isStored(run10, seq: 0))
        registry.beginWrite(run10, seq: 0)
        registry.endWrite(run10, seq: 0, stored: true, now: now)
        #expect(registry.isStored(run10, seq: 0) && !registry.isStored(run10, seq: 1))
    }

    @Test func aRunWithABatchOnItsWayToDiskIsNotPruned() {
        var registry = registry()
        registry.recordSeen(run10, seq: 0, now: now)
        registry.beginWrite(run10, seq: 1)
        _ = registry.forgetSilentPeers(now: now + .seconds(3600), timeout: .seconds(30))
        #expect(registry.isStored(run10, seq: 0))
        #expect(registry.trackedRuns == 1 && registry.prunedRuns == 0)
        // Once written, the run is past its horizon like any other (a batch's admission, not its
        // write, is what the peer was last heard from).
        registry.endWrite(run10, seq: 1, stored: true, now: now + .seconds(3600))
        _ = registry.forgetSilentPeers(now: now + .seconds(3601), timeout: .seconds(30))
        #expect(registry.trackedRuns == 0 && registry.prunedRuns == 1)
    }

    @Test func dormantRunsAreCappedOldestFirst() {
        var registry = registry(maxDormantRuns: 2)
        for run in UInt64(0) ..< 3 {
            registry.recordSeen(PeerKey(actorID: 1, runID: run), seq: 0, now: now + .seconds(Int(run)))
        }
        registry.welcome(PeerKey(actorID: 9, runID: 9), role: .observer, now: now)
        #expect(registry.trackedRuns == 2 && registry.prunedRuns == 1)
        #expect(!registry.isStored(PeerKey(actorID: 1, runID: 0), seq: 0))
        #expect(registry.isStored(PeerKey(actorID: 1, runID: 2), seq: 0))
    }

    // MARK: - Sessions

    @Test func aSessionReplacedOnItsPipeReleasesItsPeer() {
        var registry = registry()
        registry.welcome(run10, role: .actor, now: now)
        registry.openSession(PeerSession(role: .actor, key: run10), pipe: 1, now: now)
        registry.welcome(run11, role: .actor, now: now)
        registry.openSession(PeerSession(role: .actor, key: run11), pipe: 1, now: now)
        #expect(registry.peers[run10] == nil && registry.peers[run11] != nil)
        let ended = registry.endSession(pipe: 1, goodbye: true, now: now)
        #expect(ended?.key == run11)
        let endedAgain = registry.endSession(pipe: 1, goodbye: true, now: now)
        #expect(endedAgain == nil && registry.peers.isEmpty)
    }

    @Test func silentPeersAreForgottenWithTheirSessions() {
        var registry = registry()
        registry.welcome(run10, role: .actor, now: now)
        registry.openSession(PeerSession(role: .actor, key: run10), pipe: 1, now: now)
        registry.welcome(PeerKey(actorID: 2, runID: 20), role: .actor, now: now)
        registry.touch(PeerKey(actorID: 2, runID: 20), now: now + .seconds(2))
        let forgotten = registry.forgetSilentPeers(now: now + .seconds(3.5), timeout: .seconds(3))
        #expect(forgotten == [run10])
        #expect(registry.sessions.count == 0 && registry.liveActors == 1)
    }
}
