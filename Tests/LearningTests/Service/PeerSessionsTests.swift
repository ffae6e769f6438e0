import Learning
import Simulators
import Testing
import Wire

/// Sessions bound to connections (PROTOCOL.md 3.1): the rules, and what the ledger does when one ends.
@Suite struct PeerSessionsTests {
    let now = ContinuousClock.now

    private func welcomed(_ ledger: inout IngestLedger, _ hello: Hello, pipe: UInt32) {
        #expect(ledger.hello(hello, now: now).isWelcome)
        ledger.openSession(hello, pipe: pipe, now: now)
    }

    // MARK: - Rules

    @Test func aConnectionWithoutHelloIsNotWelcomeForEveryRequest() {
        let sessions = PeerSessions()
        let requests: [Message] = [
            .transitions(batch(seq: 0)), .heartbeat(heartbeat()), .goodbye(Goodbye(reason: .done)),
            .weightsRequest(WeightsRequest(heldVersion: 0, onlyIfNewer: false)),
            .episodeStats(EpisodeStats(actorID: 1, runID: 10, episodes: [])),
        ]
        for request in requests {
            #expect(sessions.check(request, onPipe: 5)?.code == .notWelcome, "\(request.type)")
        }
        #expect(sessions.check(.hello(hello()), onPipe: 5) == nil)
    }

    @Test func theSentByColumnDecidesWhichRoleMaySendWhat() {
        func code(_ message: Message, as role: Role) -> ErrorCode? {
            PeerSessions.check(message, session: PeerSession(role: role, key: PeerKey(actorID: 1, runID: 10)))?.code
        }
        let weights = Message.weightsRequest(WeightsRequest(heldVersion: 0, onlyIfNewer: false))
        let stats = Message.episodeStats(EpisodeStats(actorID: 1, runID: 10, episodes: []))
        let action = Message.actionRequest(ActionRequest(
            deterministic: false, observationSize: 3, actionSize: 1, episodeIDs: [1], observations: [0, 0, 0],
            previousRewards: [0], events: [.start], previousDoneFlags: [0]))
        #expect(code(.transitions(batch(seq: 0)), as: .observer) == .unexpectedMessage)
        #expect(code(.transitions(batch(seq: 0)), as: .simulator) == .unexpectedMessage)
        #expect(code(action, as: .actor) == .unexpectedMessage)
        #expect(code(weights, as: .simulator) == .unexpectedMessage)
        #expect(code(stats, as: .observer) == .unexpectedMessage)
        #expect(code(.transitions(batch(seq: 0)), as: .actor) == nil)
        #expect(code(action, as: .simulator) == nil)
        #expect(code(weights, as: .observer) == nil)
        #expect(code(stats, as: .simulator) == nil)
        #expect(code(.ack(Ack(ackedType: .goodbye)), as: .actor) == .unexpectedMessage)
    }

    @Test func idsOtherThanTheSessionsAreNotWelcomeAndTheTextKeepsTheRunIDOut() {
        var sessions = PeerSessions()
        sessions.open(PeerSession(role: .actor, key: PeerKey(actorID: 7401, runID: 0xDEAD_BEEF)), onPipe: 3)
        let other = sessions.check(.transitions(batch(actor: 7400, run: 0xDEAD_BEEF, seq: 0)), onPipe: 3)
        #expect(other?.code == .notWelcome)
        #expect(other?.text.contains("7400") == true && other?.text.contains("7401") == true)
        let otherRun = sessions.check(.heartbeat(heartbeat(actor: 7401, run: 1)), onPipe: 3)
        #expect(otherRun?.code == .notWelcome)
        #expect(otherRun?.text.contains(String(0xDEAD_BEEF)) == false)
        #expect(sessions.check(.transitions(batch(actor: 7401, run: 0xDEAD_BEEF, seq: 0)), onPipe: 3) == nil)
        // The same ids on another connection are not this session.
        #expect(sessions.check(.transitions(batch(actor: 7401, run: 0xDEAD_BEEF, seq: 0)), onPipe: 4)?.code
            == .notWelcome)
    }

    // MARK: - Ending a session

    @Test func goodbyeFreesTheSlotAtOnce() throws {
        var ledger = try makeLedger(maxActors: 1)
        welcomed(&ledger, hello(actor: 1), pipe: 1)
        #expect(ledger.hello(hello(actor: 2), now: now).errorCode == .full)
        #expect(ledger.endSession(pipe: 1, goodbye: true, now: now) != nil)
        #expect(ledger.sessions.session(onPipe: 1) == nil)
        #expect(ledger.hello(hello(actor: 2, run: 20), now: now).isWelcome)
        #expect(ledger.endSession(pipe: 1, goodbye: true, now: now) == nil)
    }

    @Test func aClosedConnectionFreesTheSlotButKeepsTheMarksForTheResend() throws {
        var ledger = try makeLedger(maxActors: 1)
        welcomed(&ledger, hello(actor: 1, run: 10), pipe: 1)
        #expect(ledger.transitions(batch(seq: 0), now: now).reply.ackStatus == .accepted)
        ledger.endSession(pipe: 1, goodbye: false, now: now)
        #expect(ledger.liveActors == 0)
        // REQ resends on the next connection after a new HELLO: the batch is a duplicate.
        welcomed(&ledger, hello(actor: 1, run: 10), pipe: 2)
        #expect(ledger.transitions(batch(seq: 0), now: now).reply.ackStatus == .duplicate)
        #expect(ledger.transitions(batch(seq: 1), now: now).reply.ackStatus == .accepted)
    }

    @Test func goodbyeDropsTheRunsMarks() throws {
        var ledger = try makeLedger()
        welcomed(&ledger, hello(actor: 1, run: 10), pipe: 1)
        #expect(ledger.transitions(batch(seq: 0), now: now).reply.ackStatus == .accepted)
        ledger.endSession(pipe: 1, goodbye: true, now: now)
        #expect(ledger.trackedRuns == 0 && ledger.prunedRuns == 1)
        // The same ids again are a new run as far as dedupe goes.
        welcomed(&ledger, hello(actor: 1, run: 10), pipe: 2)
        #expect(ledger.transitions(batch(seq: 0), now: now).reply.ackStatus == .accepted)
    }

    // MARK: - Bounded bookkeeping

    @Test func tenThousandHellosWithNewRunIDsLeaveABoundedLedger() throws {
        var ledger = try makeLedger(maxActors: 4)
        for run in 0 ..< UInt64(10_000) {
            // Each on its own connection, each connection gone before the next: the worst case.
            welcomed(&ledger, hello(actor: UInt32(run % 7), run: 1000 + run), pipe: UInt32(run + 1))
            ledger.endSession(pipe: UInt32(run + 1), goodbye: false, now: now)
        }
        #expect(ledger.trackedRuns <= 64)
        #expect(ledger.peers.count == 0 && ledger.sessions.count == 0)
        #expect(ledger.prunedRuns >= 10_000 - 64)
        #expect(ledger.tallies.values.map(\.runs).reduce(0, +) == 10_000)
    }

    @Test func aRunWithALiveSessionIsNeverPruned() throws {
        var ledger = try makeLedger(maxActors: 1)
        welcomed(&ledger, hello(actor: 1, run: 10), pipe: 1)
        #expect(ledger.transitions(batch(seq: 0), now: now).reply.ackStatus == .accepted)
        for run in 0 ..< UInt64(200) {
            welcomed(&ledger, hello(actor: 9, run: 5000 + run, role: .observer), pipe: UInt32(100 + run))
            ledger.endSession(pipe: UInt32(100 + run), goodbye: false, now: now + .seconds(3600))
        }
        #expect(ledger.forgetSilentPeers(now: now + .seconds(3600), timeout: .seconds(7200)).isEmpty)
        #expect(ledger.transitions(batch(seq: 0), now: now + .seconds(3600)).reply.ackStatus == .duplicate)
    }

    @Test func marksOfARunWithoutASessionGoAfterTheResendHorizon() throws {
        /// What a resend of seq 0 hears after its connection closed and `silence` passed.
        func resend(after silence: Duration) throws -> TransitionsStatus? {
            var ledger = try makeLedger()
            welcomed(&ledger, hello(actor: 1, run: 10), pipe: 1)
            #expect(ledger.transitions(batch(seq: 0), now: now).reply.ackStatus == .accepted)
            ledger.endSession(pipe: 1, goodbye: false, now: now)
            _ = ledger.forgetSilentPeers(now: now + silence, timeout: .seconds(30))
            welcomed(&ledger, hello(actor: 1, run: 10), pipe: 2)
            return ledger.transitions(batch(seq: 0), now: now + silence).reply.ackStatus
        }
        #expect(try resend(after: .seconds(599)) == .duplicate)
        #expect(try resend(after: .seconds(601)) == .accepted)
    }

    private func heartbeat(actor: UInt32 = 1, run: UInt64 = 10) -> Heartbeat {
        Heartbeat(actorID: actor, queueLength: 0, runID: run, policyVersion: 0, envSteps: 0, episodes: 0,
                  batchesSent: 0, batchesAcked: 0, transitionsDropped: 0)
    }
}
