import Simulators
import Testing
import Wire

/// nng REQ may deliver one ACTION_REQUEST twice; the learner stores it once and answers alike.
struct ResendTests {
    // MARK: - After the original was answered

    @Test func resendAfterTheReplyReturnsTheCachedReplyAndStoresNothing() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1])], session: 1, requestID: 40)
        let rows: [Row] = [.step(1, [2, 2], reward: 1)]
        let original = try h.exchange(rows, session: 1, requestID: 41)
        h.policyVersion = 8
        let resend = try h.exchange(rows, session: 1, requestID: 41)

        #expect(original.prepared.transitions.count == 1)
        #expect(resend.prepared.isDuplicate)
        #expect(resend.prepared.transitions.count == 0)
        #expect(resend.prepared.actingCount == 0, "no act call for a cached reply")
        #expect(resend.reply == original.reply)
        #expect(h.episodes.counters.transitionsBuilt == 1)
        #expect(h.episodes.counters.duplicateRequests == 1)

        // The episode continues from the original's action, not from anything the resend did.
        let next = try h.exchange([.step(1, [3, 3], reward: 2)], session: 1, requestID: 42)
        #expect(next.prepared.transitions.rows == [
            Transition(observation: [2, 2], action: fakeAction([2, 2]), reward: 2, terminated: 0, nextObservation: [3, 3]),
        ])
    }

    @Test func resentEndIsNotCountedTwice() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1])], session: 1, requestID: 1)
        let rows: [Row] = [.end(1, [2, 2], reward: 1, flags: .terminated), .start(2, [0, 0])]
        try h.exchange(rows, session: 1, requestID: 2)
        let resend = try h.exchange(rows, session: 1, requestID: 2)
        #expect(resend.prepared.endedEpisodes.isEmpty)
        #expect(h.episodes.counters.episodesEnded == 1)
        #expect(h.episodes.counters.episodesStarted == 2)
        #expect(h.episodes.runningEpisodes(in: 1) == [2])
    }

    @Test func sameRequestIDFromAnotherSessionIsNotADuplicate() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1])], session: 1, requestID: 5)
        let other = try h.exchange([.start(1, [1, 1])], session: 2, requestID: 5)
        #expect(!other.prepared.isDuplicate)
        #expect(h.episodes.counters.duplicateRequests == 0)
    }

    // MARK: - While the original is still being served

    @Test func resendWhileTheOriginalIsInFlightGetsTheOriginalsReply() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1])], session: 1, requestID: 1)
        let request = actionRequest([.step(1, [2, 2], reward: 1)])
        let original = try h.episodes.handle(request: request, session: 1, requestID: 2, now: h.at(0))
        let resend = try h.episodes.handle(request: request, session: 1, requestID: 2, now: h.at(0))
        #expect(resend.isDuplicate && resend.transitions.count == 0)
        #expect(resend.actingCount == 1, "no reply to copy yet, so the resend is acted on too")

        let first = h.act(original)
        // Whatever the second act call chose, the resend must carry the original's actions.
        let second = h.episodes.complete(resend, actions: [0.5, 0.5], values: nil, policyVersion: 99)
        #expect(second == first)
        #expect(h.episodes.counters.transitionsBuilt == 1)
    }

    @Test func resendCompletedFirstDecidesTheActionForBothCopies() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1])], session: 1, requestID: 1)
        let request = actionRequest([.step(1, [2, 2], reward: 1)])
        let original = try h.episodes.handle(request: request, session: 1, requestID: 2, now: h.at(0))
        let resend = try h.episodes.handle(request: request, session: 1, requestID: 2, now: h.at(0))

        let resendReply = h.episodes.complete(resend, actions: [0.5, -0.5], values: nil, policyVersion: 9)
        let originalReply = h.act(original)
        #expect(originalReply == resendReply)
        // The recorded action is the one both copies carry.
        let next = try h.exchange([.step(1, [3, 3], reward: 2)], session: 1, requestID: 3)
        #expect(next.prepared.transitions.rows.map(\.action) == [[0.5, -0.5]])
    }

    @Test func resendOfAnAbandonedRequestIsStillAnsweredAndRecorded() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1])], session: 1, requestID: 1)
        let rows: [Row] = [.step(1, [2, 2], reward: 1)]
        // The service handled the original but never completed it (its act call failed).
        _ = try h.episodes.handle(request: actionRequest(rows), session: 1, requestID: 2, now: h.at(0))
        let resend = try h.exchange(rows, session: 1, requestID: 2)
        #expect(resend.reply.actions == fakeAction([2, 2]))
        let next = try h.exchange([.step(1, [3, 3], reward: 2)], session: 1, requestID: 3)
        #expect(next.prepared.transitions.rows.map(\.action) == [fakeAction([2, 2])])
        #expect(h.episodes.counters.transitionsBuilt == 2)
    }
}
