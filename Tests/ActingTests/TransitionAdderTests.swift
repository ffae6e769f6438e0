import Acting
import Testing
import Wire

@Suite struct TransitionAdderTests {
    let start = ContinuousClock.now

    func add(_ adder: inout TransitionAdder, step: UInt32, version: UInt64 = 3, terminated: Bool = false,
             truncated: Bool = false, action: Float = 0.5) -> Wire.TransitionBatch? {
        adder.add(observation: [Float(step), 0], action: [action], reward: -1, nextObservation: [Float(step + 1), 0],
                  terminated: terminated, truncated: truncated, episodeID: 7, stepIndex: step, policyVersion: version,
                  now: start)
    }

    @Test func fullBatchesLeaveWithConsecutiveSeqs() {
        var adder = TransitionAdder(actorID: 2, runID: 5, observationSize: 2, actionSize: 1, batchSize: 3,
                                    interval: .seconds(10))
        var batches: [Wire.TransitionBatch] = []
        for step in 0 ..< UInt32(7) {
            if let batch = add(&adder, step: step) { batches.append(batch) }
        }
        #expect(batches.map(\.seq) == [0, 1])
        #expect(batches.allSatisfy { $0.count == 3 && $0.actorID == 2 && $0.runID == 5 })
        #expect(batches[1].observations == [3, 0, 4, 0, 5, 0])
        #expect(adder.pendingCount == 1)
        #expect(adder.flush()?.seq == 2)
        #expect(adder.flush() == nil)
    }

    @Test func aBatchCarriesItsOldestPolicyVersionAndDoneFlags() {
        var adder = TransitionAdder(actorID: 1, runID: 1, observationSize: 2, actionSize: 1, batchSize: 3,
                                    interval: .seconds(10))
        _ = add(&adder, step: 0, version: 9, truncated: true)
        _ = add(&adder, step: 1, version: 4, terminated: true)
        let batch = add(&adder, step: 2, version: 6, action: 1.0000001)
        #expect(batch?.policyVersion == 4)
        #expect(batch?.actingVersionOffsets == [5, 0, 2], "each row keeps its own version")
        #expect(batch?.doneFlags == [DoneFlags.truncated.rawValue, DoneFlags.terminated.rawValue, 0])
        #expect(batch?.actions.last == 1)
    }

    @Test func aPartialBatchLeavesAfterTheInterval() {
        var adder = TransitionAdder(actorID: 1, runID: 1, observationSize: 2, actionSize: 1, batchSize: 100,
                                    interval: .milliseconds(50))
        _ = add(&adder, step: 0)
        #expect(adder.takeIfDue(now: start + .milliseconds(10)) == nil)
        #expect(adder.takeIfDue(now: start + .milliseconds(60))?.count == 1)
    }
}
