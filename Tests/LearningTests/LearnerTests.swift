import Environments
import Foundation
import MEow
import Replay
import Telemetry
import Testing

@testable import Learning

/// `Learner.step()`: updates, the evaluation and checkpoint schedules, external evaluation and the end of a session.
@Suite struct LearnerTests {
    /// A host that records what the learner told it.
    final class RecordingHost: LearnerHost {
        var updates = 0
        var evaluations: [(step: Int, meanReturn: Double)] = []
        var opened: [Int] = []
        var checkpoints: [(steps: Int, best: Bool)] = []
        var steps = 0

        func learnerDidUpdate(_ statistics: UpdateMetrics, duration: Duration) { updates += 1 }
        func learnerDidEvaluate(step: Int, meanReturn: Double) { evaluations.append((step, meanReturn)) }
        func learnerOpensEvaluation(at step: Int) -> Bool {
            opened.append(step)
            return true
        }
        func checkpointPart() -> CheckpointPart {
            CheckpointPart(
                steps: steps, episodes: 0,
                spaces: SpacesRecord(observationDimension: 2, actionDimension: 1, observationSpace: "box",
                                     actionSpace: "box"))
        }
        func learnerDidCheckpoint(at url: URL, steps: Int, best: Bool) { checkpoints.append((steps, best)) }
    }

    static func makeLearner(
        directory: URL, evaluation: Learner.Evaluation, evalEvery: Int, checkpointEvery: Int
    ) throws -> (Learner, ScriptedAgent) {
        var config = MEowConfig()
        (config.batchSize, config.evalEvery, config.evalEpisodes) = (4, evalEvery, 1)
        var run = RunSettings()
        run.checkpointEvery = checkpointEvery
        let agent = ScriptedAgent(log: EventLog())
        var replay = try ReplayBuffer(capacity: 64, observationDimension: 2, actionDimension: 1)
        for i in 0 ..< 8 {
            try replay.insert(observation: [Float(i), 0], action: [0.1], reward: Float(i), terminated: false,
                              nextObservation: [Float(i), 1])
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let metrics = FanOutLogger([try CSVScalarWriter(directory: directory.path)])
        let state = LearnerState(replaySampling: Xoshiro256(seed: 1), evaluation: Xoshiro256(seed: 2),
                                 learningResumesAfterStep: 0, evalEvery: evalEvery)
        let learner = Learner(
            agent: agent, replay: replay, state: state,
            run: Learner.RunDescription(environment: "scripted", model: nil, config: config, run: run,
                                        directory: directory, lossLogInterval: 2),
            evaluation: evaluation, metrics: metrics, envSteps: 0, resumed: nil)
        return (learner, agent)
    }

    // MARK: - The schedules

    @Test func evaluationAndCheckpointsKeepTheirScheduleWithOrWithoutUpdates() throws {
        let directory = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let environment = ScriptedEnvironment(role: "evaluation", log: EventLog())
        let (learner, agent) = try Self.makeLearner(
            directory: directory, evaluation: .environment(environment), evalEvery: 10, checkpointEvery: 15)
        let host = RecordingHost()
        for step in 1 ... 30 {
            host.steps = step
            try learner.step(envSteps: step, updates: step > 5 ? 1 : 0, host: host)
        }
        #expect(agent.updateCount == 25 && learner.state.updates == 25 && host.updates == 25)
        // Evaluated at 10, 20 and 30 (10 came before 15 updates were made: the schedule does not wait for them).
        #expect(host.evaluations.map(\.step) == [10, 20, 30])
        #expect(learner.state.evaluations.map(\.step) == [10, 20, 30])
        // The first evaluation is the best (the scripted agent's returns do not change), so only 10 checkpoints
        // as a best; 15 and 30 are periodic.
        #expect(host.checkpoints.map(\.steps) == [10, 15, 30] && host.checkpoints.map(\.best) == [true, false, false])
        #expect(learner.lastCheckpoint?.steps == 30 && learner.lastCheckpoint?.updates == 25)

        // The end of the session writes nothing more: the newest checkpoint holds this state.
        try learner.finish(envSteps: 30, evaluate: true, host: host)
        #expect(host.checkpoints.count == 3 && host.evaluations.count == 3)
        // One more step moves the state, so the end checkpoints it (and evaluates, the last step having had none).
        host.steps = 31
        try learner.step(envSteps: 31, updates: 1, host: host)
        try learner.finish(envSteps: 31, evaluate: true, host: host)
        #expect(host.evaluations.map(\.step).last == 31 && host.checkpoints.map(\.steps).last == 31)
    }

    @Test func anExternalEvaluationIsOpenedByTheHostAndRecordedWhenItCompletes() throws {
        let directory = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (learner, _) = try Self.makeLearner(directory: directory, evaluation: .external, evalEvery: 4,
                                                checkpointEvery: 0)
        let host = RecordingHost()
        var opened: [Int] = []
        for step in 1 ... 9 {
            if try learner.step(envSteps: step, updates: 1, host: host).evaluationOpened { opened.append(step) }
        }
        #expect(opened == [4, 8] && host.opened == [4, 8] && host.evaluations.isEmpty)
        host.steps = 9
        try learner.record(evaluationAt: 4, meanReturn: -3, host: host)
        try learner.record(evaluationAt: 8, meanReturn: -5, host: host)
        #expect(learner.state.best == BestRecord(step: 4, testReturn: -3))
        #expect(host.checkpoints.count == 1 && host.checkpoints[0].best)
        #expect(learner.state.evaluations.map(\.step) == [4, 8] && host.evaluations.map(\.meanReturn) == [-3, -5])
    }

    @Test func evaluationOffNeverEvaluates() throws {
        let directory = temporaryRunDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (learner, _) = try Self.makeLearner(directory: directory, evaluation: .off, evalEvery: 2, checkpointEvery: 0)
        let host = RecordingHost()
        for step in 1 ... 6 { try learner.step(envSteps: step, updates: 1, host: host) }
        #expect(learner.state.nextEvaluationStep == nil && host.evaluations.isEmpty && host.opened.isEmpty)
        #expect(host.checkpoints.isEmpty)
    }
}
