import Learning
import Testing
import Wire

@Suite struct IngestCountersTests {
    @Test func aReplyCountAndItsActorsTallyMoveTogether() {
        var counts = IngestCounters()
        counts.countDuplicate(from: 1)
        counts.countTryLater(from: 1)
        counts.countTryLater(from: 2)
        counts.countStaleDrop(from: 2)
        #expect(counts.duplicateReplies == 1 && counts.tryLaterReplies == 2 && counts.staleDrops == 1)
        #expect(counts.tallies[1]?.duplicates == 1 && counts.tallies[1]?.tryLater == 1)
        #expect(counts.tallies[2]?.tryLater == 1 && counts.tallies[2]?.staleDropped == 1)
    }

    @Test func aStoredBatchIsTalliedAndItsLagRecordedPerTransition() {
        var counts = IngestCounters()
        counts.countStored(batch(seq: 0, count: 4, version: 3), learnerVersion: 5)
        counts.countSimulatorTransitions(4, actingVersion: 9, learnerVersion: 5)
        #expect(counts.tallies[1]?.transitions == 4 && counts.tallies[1]?.batches == 1)
        #expect(counts.tallies[1]?.lastBatchVersion == 3)
        // A version from the future counts as no lag.
        #expect(counts.staleness.summary == StalenessSummary(min: 0, mean: 1, p50: 0, p99: 2, max: 2))
    }

    @Test func aCheckpointRestoresWhatItKept() {
        var counts = IngestCounters()
        counts.countRun(of: 3)
        let episode = EpisodeSummary(episodeID: 0, seed: 0, episodeReturn: -5, seconds: 0, length: 10)
        counts.countEpisodes([episode], from: 3)
        counts.countDuplicate(from: 3)
        counts.countDropped(4, reason: "replay_insert")
        let saved = counts.checkpoint(envSteps: 123)
        #expect(saved.envSteps == 123 && saved.actors["3"]?.episodes == 1 && saved.actors["3"]?.lastReturn == -5)
        var restored = IngestCounters()
        restored.restore(saved)
        #expect(restored.checkpoint(envSteps: 123) == saved)
        #expect(restored.droppedTransitions.isEmpty, "drops are this learner's, not the checkpoint's")
    }

    @Test func trainingProgressKeepsTheUpdateTimeUnlessGiven() {
        var progress = TrainingProgress()
        progress.record(policyVersion: 4, updates: 4, skippedUpdates: 1, secondsPerUpdate: 0.02)
        progress.record(policyVersion: 5, updates: 5, skippedUpdates: 1)
        #expect(progress.policyVersion == 5 && progress.updates == 5 && progress.skippedUpdates == 1)
        #expect(progress.secondsPerUpdate == 0.02)
    }
}
