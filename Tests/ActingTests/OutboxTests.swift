import Acting
import Foundation
import Synchronization
import Testing
import Wire

func makeBatch(seq: UInt64, count: Int = 2) -> Wire.TransitionBatch {
    Wire.TransitionBatch(actorID: 1, runID: 9, seq: seq, policyVersion: 0, observationSize: 1, actionSize: 1,
                         episodeIDs: Array(repeating: 0, count: count), stepIndices: Array(repeating: 0, count: count),
                         observations: Array(repeating: 0, count: count), nextObservations: Array(repeating: 0, count: count),
                         actions: Array(repeating: 0, count: count), rewards: Array(repeating: 0, count: count),
                         doneFlags: Array(repeating: 0, count: count))
}

@Suite struct OutboxTests {
    // MARK: - Keeping batches until acknowledged

    @Test func theOldestUnacknowledgedBatchGoesFirstAndStaysUntilAcknowledged() {
        let outbox = Outbox(capacity: 4)
        for seq in 0 ..< UInt64(3) { outbox.append(makeBatch(seq: seq)) }
        #expect(outbox.first()?.seq == 0)
        // A failed send (timeout, learner gone) leaves it in place: the same seq goes again.
        #expect(outbox.first()?.seq == 0)
        #expect(outbox.acknowledge(0))
        #expect(outbox.first()?.seq == 1)
        #expect(!outbox.acknowledge(0))
        #expect(outbox.count == 2 && outbox.transitionCount == 4)
    }

    @Test func aFullOutboxRefusesWhenTheProducerGivesUp() {
        let outbox = Outbox(capacity: 2)
        #expect(outbox.append(makeBatch(seq: 0)))
        #expect(outbox.append(makeBatch(seq: 1)))
        #expect(!outbox.append(makeBatch(seq: 2)) { true })
        #expect(!outbox.waitForRoom { true })
        #expect(outbox.count == 2)
    }

    // MARK: - Waking a waiting producer

    @Test(.timeLimit(.minutes(1))) func anAcknowledgementWakesAProducerWaitingForRoom() async {
        let outbox = Outbox(capacity: 2)
        outbox.append(makeBatch(seq: 0))
        outbox.append(makeBatch(seq: 1))
        let (waiting, producer) = blockedProducer { giveUp in outbox.append(makeBatch(seq: 2), giveUp: giveUp) }
        await waiting()
        // The producer is registered (it checked its give-up condition under the outbox's lock).
        #expect(outbox.count == 2)
        outbox.acknowledge(0)
        #expect(await producer.value)
        #expect(outbox.first()?.seq == 1 && outbox.count == 2)
    }

    @Test(.timeLimit(.minutes(1))) func wakingProducersAfterAStopEndsTheirWait() async {
        let outbox = Outbox(capacity: 1)
        outbox.append(makeBatch(seq: 0))
        let stop = Raised()
        let (waiting, producer) = blockedProducer { giveUp in
            outbox.waitForRoom { giveUp() || stop.value.load(ordering: .relaxed) }
        }
        await waiting()
        stop.value.store(true, ordering: .relaxed)
        outbox.wakeProducers()
        #expect(await producer.value == false)
        #expect(outbox.count == 1)
    }

    @Test(.timeLimit(.minutes(1))) func aDeadlineEndsTheWaitForRoom() {
        let outbox = Outbox(capacity: 1)
        outbox.append(makeBatch(seq: 0))
        let start = ContinuousClock.now
        #expect(!outbox.append(makeBatch(seq: 1), deadline: start + .milliseconds(30)))
        #expect(ContinuousClock.now - start >= .milliseconds(30))
        #expect(outbox.count == 1)
    }

    // MARK: - Reading the learner's reply

    @Test func acknowledgementsRemoveTheBatch() {
        let accepted = Message.transitionsAck(TransitionsAck(seq: 5, policyVersion: 7, status: .accepted))
        #expect(UploadDecision.decide(reply: accepted, seq: 5) == .acknowledged(duplicate: false, learnerVersion: 7))
        let duplicate = Message.transitionsAck(TransitionsAck(seq: 5, policyVersion: 7, status: .duplicate))
        #expect(UploadDecision.decide(reply: duplicate, seq: 5) == .acknowledged(duplicate: true, learnerVersion: 7))
    }

    @Test func backpressureResendsTheSameBatchLater() {
        let later = Message.transitionsAck(TransitionsAck(seq: 5, policyVersion: 7, retryAfterMs: 30, status: .tryLater))
        #expect(UploadDecision.decide(reply: later, seq: 5) == .retry(afterMs: 30, learnerVersion: 7))
    }

    @Test func aRestartedLearnerAsksForHelloAndAnAckOfAnotherSeqIsNotTrusted() {
        let notWelcome = Message.error(ErrorReply(code: .notWelcome, text: ""))
        #expect(UploadDecision.decide(reply: notWelcome, seq: 1) == .hello)
        let other = Message.transitionsAck(TransitionsAck(seq: 4, policyVersion: 0, status: .accepted))
        guard case .unexpected = UploadDecision.decide(reply: other, seq: 5) else {
            Issue.record("an ack for another seq must not remove this batch")
            return
        }
    }

    @Test func shuttingDownWithoutRetryEndsTheRunAndWithRetryWaits() {
        let over = Message.error(ErrorReply(code: .shuttingDown, retryAfterMs: 0, text: ""))
        #expect(UploadDecision.decide(reply: over, seq: 1) == .runOver)
        let stopping = Message.error(ErrorReply(code: .shuttingDown, retryAfterMs: 1000, text: ""))
        #expect(UploadDecision.decide(reply: stopping, seq: 1) == .learnerStopping(retryAfterMs: 1000))
        let mismatch = Message.error(ErrorReply(code: .spaceMismatch, text: "no"))
        #expect(UploadDecision.decide(reply: mismatch, seq: 1) == .fatal(code: .spaceMismatch, text: "no"))
    }
}

/// Runs `wait` on a thread of its own, as the environment thread does, and returns a function that
/// returns once the producer checked its give-up condition for the first time (it is then registered
/// as waiting), and the task that ends with its result.
func blockedProducer(
    _ wait: @escaping @Sendable (_ giveUp: @escaping () -> Bool) -> Bool
) -> (waiting: @Sendable () async -> Void, result: Task<Bool, Never>) {
    let (checked, didCheck) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    let result = Task {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let thread = Thread {
                let appended = wait {
                    didCheck.yield()
                    return false
                }
                continuation.resume(returning: appended)
            }
            thread.start()
        }
    }
    return ({ for await _ in checked { return } }, result)
}

/// A flag another thread reads.
private final class Raised: Sendable {
    let value = Atomic<Bool>(false)
}
