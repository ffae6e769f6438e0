import Foundation
import Testing

@testable import MEow

@Suite struct TrainingStateTests {
    static func config() -> MEowConfig {
        var c = MEowConfig()
        (c.flowHidden, c.shiftHidden, c.batchSize, c.seed) = (8, 8, 4, 3)
        return c
    }

    /// `n` updates on fixed pseudo-random batches (ds 3, d 2).
    static func train(_ agent: MEowAgent, updates n: Int, seed: UInt64) {
        var rng = Xoshiro256(seed: seed)
        func draw(_ count: Int) -> [Float] { (0..<count).map { _ in 2 * rng.nextUniform(Float.self) - 1 } }
        for _ in 0..<n {
            _ = agent.update(
                observations: draw(12), actions: draw(8), rewards: draw(4), terminations: [0, 1, 0, 0],
                nextObservations: draw(12), count: 4)
        }
    }

    // MARK: - Exact continuation

    @Test func aRestoredAgentContinuesBitForBit() throws {
        let original = try MEowAgent(config: Self.config(), observationDimension: 3, actionDimension: 2)
        Self.train(original, updates: 5, seed: 1)
        let saved = original.trainingState()
        #expect(saved.optimizerStep == 5 && saved.updateCount == 5)

        // Through the files, into an agent built from another seed.
        var otherConfig = Self.config()
        otherConfig.seed = 99
        let copy = try MEowAgent(config: otherConfig, observationDimension: 3, actionDimension: 2)
        let files = original.encode(saved)
        try copy.restore(copy.decode(files, dropoutRNG: saved.dropoutRNG, updateCount: 5, skippedUpdates: 0))
        let restored = copy.trainingState() == saved
        #expect(restored)

        Self.train(original, updates: 3, seed: 2)
        Self.train(copy, updates: 3, seed: 2)
        let a = original.trainingState(), b = copy.trainingState()
        #expect(a.online.map(\.bitPattern) == b.online.map(\.bitPattern))
        #expect(a.target.map(\.bitPattern) == b.target.map(\.bitPattern))
        #expect(a.secondMoment.map(\.bitPattern) == b.secondMoment.map(\.bitPattern))
        let same = a == b
        #expect(same)
    }

    @Test func theOnlineFileIsAPolicyFileAndAdamKeepsItsStep() throws {
        let agent = try MEowAgent(config: Self.config(), observationDimension: 3, actionDimension: 2)
        Self.train(agent, updates: 2, seed: 4)
        let files = agent.encode(agent.trainingState())
        let metadata = try MEowAgent.metadata(ofSafetensors: files.adam)
        #expect(metadata["step"] == "2" && metadata["format"] == "meow-adam")
        #expect(try MEowAgent.metadata(ofSafetensors: files.online)["format"] == MEowAgent.policyFormat)
    }

    // MARK: - Mismatches

    @Test func stateOfAnotherShapeIsRefusedAndChangesNothing() throws {
        let small = try MEowAgent(config: Self.config(), observationDimension: 3, actionDimension: 2)
        let other = try MEowAgent(config: Self.config(), observationDimension: 4, actionDimension: 2)
        let before = other.trainingState()
        let foreign = small.trainingState()
        #expect(throws: TrainingStateError.self) { try other.restore(foreign) }
        let unchanged = other.trainingState() == before
        #expect(unchanged)
        let files = small.encode(small.trainingState())
        #expect(throws: TrainingStateError.self) {
            _ = try other.decode(files, dropoutRNG: Xoshiro256(seed: 1), updateCount: 0, skippedUpdates: 0)
        }
        var broken = files
        broken.adam = Array(files.adam.prefix(files.adam.count - 4))
        let error = #expect(throws: TrainingStateError.self) {
            _ = try small.decode(broken, dropoutRNG: Xoshiro256(seed: 1), updateCount: 0, skippedUpdates: 0)
        }
        #expect(error?.part == "adam")
    }
}
