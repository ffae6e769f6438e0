import Synchronization
import Testing
@testable import Acting

/// What the network tasks tell the environment thread while it waits for outbox room.
@Suite struct UplinkStateTests {
    private func makeState() -> UplinkState {
        UplinkState(stats: ActorStats(actorID: 1, runID: 9, actorSeed: 1, environmentSeeds: []))
    }

    @Test func aNewerVersionOrDeliveredWeightsAreNewsOnceAndAnOlderVersionIsNot() {
        let shared = makeState()
        #expect(!shared.takeWeightsNews())
        shared.observe(learnerVersion: 3)
        #expect(shared.takeWeightsNews())
        #expect(!shared.takeWeightsNews())
        shared.observe(learnerVersion: 3)
        shared.observe(learnerVersion: 2)
        #expect(!shared.takeWeightsNews())
        shared.deliver((version: 3, tensors: []), generation: 0)
        #expect(shared.takeWeightsNews())
        #expect(shared.mailbox.withLock { $0?.version } == 3)
    }

    @Test(.timeLimit(.minutes(1))) func aVersionAnnouncedDuringBackpressureEndsTheWaitForRoom() async {
        let shared = makeState()
        let outbox = Outbox(capacity: 1)
        outbox.append(makeBatch(seq: 0))
        shared.onWeightsNews { outbox.wakeProducers() }
        let (waiting, producer) = blockedProducer { giveUp in
            outbox.waitForRoom { giveUp() || shared.takeWeightsNews() }
        }
        await waiting()
        // A TRY_LATER reply says the learner is at version 20: the producer stops waiting to pull it.
        shared.observe(learnerVersion: 20)
        #expect(await producer.value == false)
        #expect(outbox.count == 1)
    }
}
