import Replay
import Simulators
import Testing
import Wire

/// ACTION_REQUEST rows become exactly the transitions protocol/PROTOCOL.md describes.
struct RowSemanticsTests {
    // MARK: - One episode

    @Test func startStepEndBuildsEveryTransitionWithTheRepliedActions() throws {
        var h = Harness()
        let (s0, s1, s2, s3): ([Float], [Float], [Float], [Float]) = ([1, 2], [3, 4], [5, 6], [7, 8])
        let first = try h.exchange([.start(10, s0)])
        #expect(first.prepared.transitions.count == 0)
        #expect(first.reply.actions == fakeAction(s0[...]))

        let second = try h.exchange([.step(10, s1, reward: 0.5)])
        #expect(second.prepared.transitions.rows == [
            Transition(observation: s0, action: fakeAction(s0[...]), reward: 0.5, terminated: 0, nextObservation: s1),
        ])
        let third = try h.exchange([.step(10, s2, reward: -1.5)])
        #expect(third.prepared.transitions.rows == [
            Transition(observation: s1, action: fakeAction(s1[...]), reward: -1.5, terminated: 0, nextObservation: s2),
        ])
        let last = try h.exchange([.end(10, s3, reward: 2, flags: .terminated)])
        #expect(last.prepared.transitions.rows == [
            Transition(observation: s2, action: fakeAction(s2[...]), reward: 2, terminated: 1, nextObservation: s3),
        ])
        #expect(last.reply.actions == [0, 0], "END rows are answered with zeros")
        #expect(last.prepared.actingCount == 0)
        #expect(h.episodes.runningEpisodes(in: 1).isEmpty)
        #expect(last.prepared.endedEpisodes.map(\.length) == [3])
        #expect(last.prepared.endedEpisodes.map(\.episodeReturn) == [1])
    }

    @Test func truncatedEndBootstrapsFromTheRealFinalObservation() throws {
        var h = Harness()
        try h.exchange([.start(1, [0, 1])])
        let end = try h.exchange([.end(1, [9, 9], reward: 3, flags: .truncated)])
        #expect(end.prepared.transitions.rows == [
            Transition(observation: [0, 1], action: fakeAction([0, 1]), reward: 3, terminated: 0, nextObservation: [9, 9]),
        ])
        #expect(end.prepared.endedEpisodes.first?.doneFlags == .truncated)
    }

    @Test func terminatedWinsWhenBothFlagsAreSet() throws {
        var h = Harness()
        try h.exchange([.start(1, [0, 1])])
        let end = try h.exchange([.end(1, [2, 2], reward: 1, flags: [.terminated, .truncated])])
        #expect(end.prepared.transitions.terminations == [1])
    }

    @Test func endWithoutFlagsStoresNothingAndForgetsTheEpisode() throws {
        var h = Harness()
        try h.exchange([.start(1, [0, 1])])
        try h.exchange([.step(1, [1, 1], reward: 1)])
        let end = try h.exchange([.end(1, [1, 1], reward: 0, flags: [])])
        #expect(end.prepared.transitions.count == 0)
        #expect(end.prepared.endedEpisodes.map(\.length) == [1])
        #expect(h.episodes.runningEpisodes(in: 1).isEmpty)
        #expect(h.episodes.counters.episodesEnded == 1)
    }

    @Test func episodeEndedBeforeItsFirstStepStoresNothing() throws {
        var h = Harness()
        try h.exchange([.start(1, [0, 1])])
        let end = try h.exchange([.end(1, [0, 1], reward: 0, flags: [])])
        #expect(end.prepared.transitions.count == 0)
        #expect(end.prepared.endedEpisodes.map(\.length) == [0])
        #expect(h.episodes.counters.transitionsBuilt == 0)
    }

    @Test func oneStepEpisodeStoresOneTerminalTransition() throws {
        var h = Harness()
        try h.exchange([.start(1, [4, 4])])
        let end = try h.exchange([.end(1, [5, 5], reward: 7, flags: .terminated)])
        #expect(end.prepared.transitions.rows == [
            Transition(observation: [4, 4], action: fakeAction([4, 4]), reward: 7, terminated: 1, nextObservation: [5, 5]),
        ])
    }

    // MARK: - Unknown episodes

    @Test func stepForAnUnknownEpisodeActsLikeStart() throws {
        var h = Harness()
        let resumed = try h.exchange([.step(5, [1, 1], reward: 9)])
        #expect(resumed.prepared.transitions.count == 0, "nothing to pair the reward with")
        #expect(resumed.reply.actions == fakeAction([1, 1]))
        #expect(h.episodes.runningEpisodes(in: 1) == [5])
        let next = try h.exchange([.step(5, [2, 2], reward: 1)])
        #expect(next.prepared.transitions.rows == [
            Transition(observation: [1, 1], action: fakeAction([1, 1]), reward: 1, terminated: 0, nextObservation: [2, 2]),
        ])
        #expect(h.episodes.counters.episodesStarted == 1)
        #expect(h.episodes.counters.stepsWithoutAction == 1)
    }

    @Test func endForAnUnknownEpisodeIsIgnored() throws {
        var h = Harness()
        try h.exchange([.start(1, [0, 0])])
        let end = try h.exchange([.end(99, [1, 1], reward: 5, flags: .terminated), .step(1, [1, 0], reward: 1)])
        #expect(end.prepared.transitions.count == 1)
        #expect(end.prepared.endedEpisodes.isEmpty)
        #expect(end.reply.actions == [0, 0] + fakeAction([1, 0]))
        #expect(h.episodes.counters.endsIgnored == 1)
        #expect(h.episodes.runningEpisodes(in: 1) == [1])
    }

    // MARK: - Several episodes and sessions

    @Test func concurrentEpisodesAreKeptApartAndRowsStayInOrder() throws {
        var h = Harness()
        let start = try h.exchange([.start(1, [1, 0]), .start(2, [2, 0]), .start(3, [3, 0])])
        #expect(start.prepared.observations == [1, 0, 2, 0, 3, 0])
        #expect(start.reply.actions == fakeAction([1, 0]) + fakeAction([2, 0]) + fakeAction([3, 0]))

        // Episode 2 ends and auto-resets as 4 (END first, as the client queues it); 1 and 3 step.
        let next = try h.exchange([
            .end(2, [2, 9], reward: 20, flags: .terminated), .start(4, [4, 0]),
            .step(1, [1, 1], reward: 10), .step(3, [3, 1], reward: 30),
        ])
        #expect(next.prepared.actingRows == [1, 2, 3])
        #expect(next.prepared.actingEpisodeIDs == [4, 1, 3])
        #expect(next.prepared.observations == [4, 0, 1, 1, 3, 1])
        #expect(next.reply.actions == [0, 0] + fakeAction([4, 0]) + fakeAction([1, 1]) + fakeAction([3, 1]))
        #expect(next.prepared.transitions.rows == [
            Transition(observation: [2, 0], action: fakeAction([2, 0]), reward: 20, terminated: 1, nextObservation: [2, 9]),
            Transition(observation: [1, 0], action: fakeAction([1, 0]), reward: 10, terminated: 0, nextObservation: [1, 1]),
            Transition(observation: [3, 0], action: fakeAction([3, 0]), reward: 30, terminated: 0, nextObservation: [3, 1]),
        ])
        #expect(h.episodes.runningEpisodes(in: 1) == [1, 3, 4])
    }

    @Test func sessionsWithTheSameEpisodeIDsDoNotMix() throws {
        var h = Harness()
        try h.exchange([.start(1, [1, 1])], session: 100)
        try h.exchange([.start(1, [2, 2])], session: 200)
        let a = try h.exchange([.step(1, [3, 3], reward: 1)], session: 100)
        let b = try h.exchange([.step(1, [4, 4], reward: 2)], session: 200)
        #expect(a.prepared.transitions.rows.map(\.observation) == [[1, 1]])
        #expect(b.prepared.transitions.rows.map(\.observation) == [[2, 2]])
        #expect(h.episodes.sessionCount == 2)
    }

    // MARK: - Replies

    @Test func valuesAreSentOnlyWhenAskedForAndZeroForEndRows() throws {
        var h = Harness()
        let plain = try h.exchange([.start(1, [1, 2])])
        #expect(plain.reply.values == nil)
        let asked = try h.exchange([.end(1, [0, 0], reward: 0, flags: .truncated), .start(2, [3, 1])], wantValues: true)
        #expect(asked.reply.values == [0, fakeValue([3, 1])])
        #expect(asked.reply.policyVersion == h.policyVersion)
    }

    @Test func episodeTallyReportsLengthReturnAndDuration() throws {
        var h = Harness()
        try h.exchange([.start(1, [0, 0])], at: 1)
        try h.exchange([.step(1, [0, 0], reward: 1.5)], at: 2)
        let end = try h.exchange([.end(1, [0, 0], reward: 2.5, flags: .terminated)], at: 4)
        #expect(end.prepared.endedEpisodes == [
            EndedEpisode(session: 1, episodeID: 1, length: 2, episodeReturn: 4, duration: .seconds(3),
                         doneFlags: .terminated),
        ])
    }
}
