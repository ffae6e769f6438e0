import Simulators
import Synchronization
import Testing

/// `EvaluationSchedule`: seeds handed out in shares per simulator, one result per seed.
@Suite struct EvaluationScheduleTests {
    /// The schedule's mutating calls, each evaluated once outside `#expect`.
    struct Driver {
        var schedule = EvaluationSchedule()

        mutating func seeds(for session: UInt64) -> [UInt64] { schedule.assignment(for: session) }
        mutating func start(_ session: UInt64, episode: UInt64, seed: UInt64) -> Bool {
            schedule.start(session: session, episode: episode, seed: seed)
        }
        mutating func end(_ session: UInt64, episode: UInt64, _ episodeReturn: Double, finished: Bool = true) {
            schedule.end(session: session, episode: episode, episodeReturn: episodeReturn, length: 20, finished: finished)
        }
    }

    @Test func aRoundCompletesOnceEverySeedHasAFinishedEpisode() {
        var d = Driver()
        d.schedule.add(session: 1)
        d.schedule.add(session: 2)
        #expect(!d.schedule.holdsTraining)
        d.schedule.open(step: 1000, episodes: 3)
        #expect(d.schedule.holdsTraining)
        let first = d.seeds(for: 1), again = d.seeds(for: 1), second = d.seeds(for: 2)
        #expect(first == [0, 1])  // its share: two idle simulators, three seeds
        #expect(again == [0, 1])  // repeated until started
        #expect(second == [2])
        let started = d.start(1, episode: 10, seed: 0)
        let foreign = d.start(1, episode: 11, seed: 2)  // seed 2 is session 2's
        #expect(started && !foreign)
        #expect(d.schedule.isEvaluating(session: 1, episode: 11) && !d.schedule.isRecorded(session: 1, episode: 11))
        d.end(1, episode: 11, 0)
        let held = d.seeds(for: 1)
        #expect(held == [1])
        let others = d.start(2, episode: 20, seed: 2)
        d.end(1, episode: 10, -4)
        let next = d.start(1, episode: 12, seed: 1)
        d.end(2, episode: 20, -6)
        let early = d.schedule.takeCompleted()
        d.end(1, episode: 12, -8)
        let rounds = d.schedule.takeCompleted()
        #expect(others && next && early.isEmpty)
        #expect(rounds.count == 1 && rounds.first?.step == 1000 && rounds.first?.meanReturn == -6)
        #expect(rounds.first?.results.map(\.seed) == [0, 1, 2])
        #expect(rounds.first?.results.map(\.episodeReturn) == [-4, -8, -6])
        #expect(!d.schedule.isOpen && !d.schedule.holdsTraining)
    }

    @Test func seedsOfAnAbortedEpisodeOrAVanishedSimulatorAreHandedOutAgain() {
        var d = Driver()
        d.schedule.add(session: 1)
        d.schedule.add(session: 2)
        d.schedule.open(step: 5, episodes: 2)
        let first = d.seeds(for: 1)
        let started = d.start(1, episode: 1, seed: 0)
        d.end(1, episode: 1, 0, finished: false)
        let retry = d.seeds(for: 1), other = d.seeds(for: 2)
        #expect(first == [0] && started)
        #expect(retry == [0])  // the aborted episode's seed again
        #expect(other == [1])
        d.schedule.remove(session: 2)
        let stillHeld = d.seeds(for: 1)
        #expect(stillHeld == [0])
        let restarted = d.start(1, episode: 2, seed: 0)
        d.end(1, episode: 2, -1)
        let returned = d.seeds(for: 1)
        #expect(restarted && returned == [1])  // seed 1 came back from session 2
    }

    @Test func withoutAnEvaluatingSimulatorTrainingIsNotHeld() {
        var d = Driver()
        d.schedule.open(step: 5, episodes: 2)
        let none = d.seeds(for: 7)
        #expect(d.schedule.isOpen && !d.schedule.holdsTraining && none.isEmpty)
    }

    /// The training thread sleeps while a round holds it: the evaluator must wake it both when the
    /// round completes and when its last simulator leaves without completing it.
    @Test func theEvaluatorWakesTrainingWhenTheHoldEnds() {
        let wakes = Mutex(0)
        let evaluator = SimulatorEvaluator(onComplete: { wakes.withLock { $0 += 1 } })
        evaluator.withSchedule { $0.add(session: 3) }
        evaluator.withSchedule { $0.open(step: 10, episodes: 1) }
        let seeds = evaluator.withSchedule { $0.assignment(for: 3) }
        #expect(seeds == [0] && evaluator.holdsTraining && wakes.withLock { $0 } == 0)
        evaluator.withSchedule { $0.remove(session: 3) }
        #expect(!evaluator.holdsTraining && wakes.withLock { $0 } == 1)

        evaluator.withSchedule { $0.add(session: 4) }
        let again = evaluator.withSchedule { $0.assignment(for: 4) }
        #expect(again == [0] && evaluator.holdsTraining)
        let started = evaluator.withSchedule { $0.start(session: 4, episode: 1, seed: 0) }
        evaluator.withSchedule { $0.end(session: 4, episode: 1, episodeReturn: -3, length: 20, finished: true) }
        #expect(started && !evaluator.holdsTraining && wakes.withLock { $0 } == 2)
    }
}
