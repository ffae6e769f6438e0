import Simulators
import Testing
import Wire

/// Simulators that vanish or say GOODBYE free their state and nothing else.
struct EvictionTests {
    // MARK: - Timeouts

    @Test func silentEpisodeIsEvictedAndTheOthersGoOn() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1]), .start(2, [2, 2])], at: 0)
        let partial = try h.exchange([.step(1, [3, 3], reward: 1), .step(2, [4, 4], reward: 2)], at: 1)
        // Episode 2's environment stops answering; episode 1 keeps stepping.
        try h.exchange([.step(1, [5, 5], reward: 1)], at: 8)

        let report = h.episodes.evict(olderThan: .seconds(5), now: h.at(10))
        #expect(report == EvictionReport(sessions: 0, episodes: 1))
        #expect(h.episodes.runningEpisodes(in: 1) == [1])
        #expect(partial.prepared.transitions.count == 2, "what was stored before stays stored")

        let next = try h.exchange([.step(1, [6, 6], reward: 1)], at: 11)
        #expect(next.prepared.transitions.rows.map(\.observation) == [[5, 5]])
        // A late row of the evicted episode starts it afresh, with nothing to pair.
        let late = try h.exchange([.step(2, [7, 7], reward: 1)], at: 12)
        #expect(late.prepared.transitions.count == 0)
        #expect(h.episodes.counters.episodesEvicted == 1)
    }

    @Test func silentSessionIsEvictedWithItsEpisodesOnly() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1]), .start(2, [2, 2])], session: 100, at: 0)
        try h.exchange([.start(1, [1, 1])], session: 200, at: 0)
        try h.exchange([.step(1, [2, 2], reward: 1)], session: 200, at: 9)

        let report = h.episodes.evict(olderThan: .seconds(5), now: h.at(10))
        #expect(report == EvictionReport(sessions: 1, episodes: 2))
        #expect(!h.episodes.contains(session: 100))
        #expect(h.episodes.runningEpisodes(in: 200) == [1])
        #expect(h.episodes.counters.sessionsEvicted == 1 && h.episodes.counters.episodesEvicted == 2)
    }

    @Test func nothingWithinTheTimeoutIsEvicted() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1])], at: 0)
        #expect(h.episodes.evict(olderThan: .seconds(5), now: h.at(5)) == EvictionReport())
        #expect(h.episodes.runningEpisodes(in: 1) == [1])
    }

    @Test func resendCountsAsHearingFromTheSession() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1])], session: 1, requestID: 1, at: 0)
        try h.exchange([.start(1, [1, 1])], session: 1, requestID: 1, at: 4)
        #expect(h.episodes.evict(olderThan: .seconds(5), now: h.at(8)) == EvictionReport())
        #expect(h.episodes.runningEpisodes(in: 1) == [1])
    }

    // MARK: - GOODBYE

    @Test func goodbyeForgetsTheSessionAndItsEpisodes() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1]), .start(2, [2, 2])], session: 1)
        try h.exchange([.start(1, [1, 1])], session: 2)
        #expect(h.episodes.endSession(1) == 2)
        #expect(h.episodes.endSession(1) == 0, "a second GOODBYE is harmless")
        #expect(!h.episodes.contains(session: 1))
        #expect(h.episodes.runningEpisodes(in: 2) == [1])
        #expect(h.episodes.episodeCount == 1)
        #expect(h.episodes.counters.episodesEvicted == 2)
    }

    // MARK: - Counters

    @Test func countersAddUpOverAMixedRun() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1]), .start(2, [2, 2])], session: 1, requestID: 1)      // 2 started
        try h.exchange([.step(1, [1, 2], reward: 1), .step(2, [2, 3], reward: 1)], session: 1, requestID: 2)  // 2 transitions
        try h.exchange([.step(1, [1, 2], reward: 1), .step(2, [2, 3], reward: 1)], session: 1, requestID: 2)  // resend
        try h.exchange([.end(1, [0, 0], reward: 1, flags: .terminated), .end(2, [0, 0], reward: 0, flags: []),
                        .end(3, [0, 0], reward: 0, flags: .truncated), .step(4, [4, 4], reward: 3)],
                       session: 1, requestID: 3)       // 1 transition, 2 ended, 1 ignored, 1 resumed
        var expected = SimulatorCounters()
        expected.episodesStarted = 3
        expected.episodesEnded = 2
        expected.transitionsBuilt = 3
        expected.duplicateRequests = 1
        expected.rowsServed = 2 + 2 + 4
        expected.stepsWithoutAction = 1
        expected.endsIgnored = 1
        #expect(h.episodes.counters == expected)
    }
}
