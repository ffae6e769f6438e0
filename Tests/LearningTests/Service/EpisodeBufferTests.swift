import Learning
import Testing
import Wire

@Suite struct EpisodeBufferTests {
    private func episodes(_ returns: [Double]) -> [EpisodeSummary] {
        returns.enumerated().map { EpisodeSummary(episodeID: UInt64($0.offset), seed: EpisodeSummary.noSeed,
                                                  episodeReturn: $0.element, seconds: 0, length: 1) }
    }

    @Test func takingEmptiesThePendingEpisodesButNotTheRecentReturns() {
        var buffer = EpisodeBuffer()
        #expect(buffer.meanRecentReturn == nil)
        buffer.record(episodes([1, 2]), atStep: 40)
        buffer.record(episodes([6]), atStep: 80)
        let taken = buffer.take(), again = buffer.take()
        #expect(taken.map(\.step) == [40, 40, 80] && again.isEmpty)
        #expect(buffer.meanRecentReturn == 3)
    }

    @Test func bothListsKeepTheNewestWithinTheirBounds() {
        var buffer = EpisodeBuffer(recentLimit: 2, pendingLimit: 3)
        buffer.record(episodes([1, 2, 3, 4]), atStep: 0)
        buffer.record(episodes([5]), atStep: 1)
        #expect(buffer.recentReturns == [4, 5])
        let taken = buffer.take()
        #expect(taken.map(\.summary.episodeReturn) == [3, 4, 5])
    }
}
