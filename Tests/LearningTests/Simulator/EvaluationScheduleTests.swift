import Learning
import Testing

/// `EvaluationSchedule`: seeds handed out one at a time per simulator, results per seed.
@Suite struct EvaluationScheduleTests {
    @Test func aRoundCompletesOnceEverySeedHasAFinishedEpisode() {
        var schedule = EvaluationSchedule()
        schedule.add(session: 1)
        schedule.add(session: 2)
        #expect(!schedule.holdsTraining)
        schedule.open(step: 1000, episodes: 3)
        #expect(schedule.holdsTraining)
        #expect(schedule.assignment(for: 1) == [0])
        #expect(schedule.assignment(for: 1) == [0])  // repeated until started
        #expect(schedule.assignment(for: 2) == [1])
        #expect(schedule.start(session: 1, episode: 10, seed: 0))
        #expect(!schedule.start(session: 1, episode: 11, seed: 1))  // not assigned to session 1
        #expect(schedule.assignment(for: 1).isEmpty)  // one running at a time
        #expect(schedule.start(session: 2, episode: 20, seed: 1))
        schedule.end(session: 1, episode: 10, episodeReturn: -4, length: 20, finished: true)
        #expect(schedule.assignment(for: 1) == [2])
        #expect(schedule.start(session: 1, episode: 12, seed: 2))
        schedule.end(session: 2, episode: 20, episodeReturn: -6, length: 20, finished: true)
        #expect(schedule.takeCompleted().isEmpty)
        schedule.end(session: 1, episode: 12, episodeReturn: -8, length: 20, finished: true)
        let rounds = schedule.takeCompleted()
        #expect(rounds.count == 1 && rounds[0].step == 1000 && rounds[0].meanReturn == -6)
        #expect(rounds[0].results.map(\.seed) == [0, 1, 2])
        #expect(!schedule.isOpen && !schedule.holdsTraining)
    }

    @Test func seedsOfAnAbortedEpisodeOrAVanishedSimulatorAreHandedOutAgain() {
        var schedule = EvaluationSchedule()
        schedule.add(session: 1)
        schedule.add(session: 2)
        schedule.open(step: 5, episodes: 2)
        #expect(schedule.assignment(for: 1) == [0])
        #expect(schedule.start(session: 1, episode: 1, seed: 0))
        schedule.end(session: 1, episode: 1, episodeReturn: 0, length: 3, finished: false)
        #expect(schedule.assignment(for: 1) == [0])
        #expect(schedule.assignment(for: 2) == [1])
        schedule.remove(session: 2)
        #expect(schedule.assignment(for: 1) == [0])  // session 1 still holds seed 0
        #expect(schedule.start(session: 1, episode: 2, seed: 0))
        schedule.end(session: 1, episode: 2, episodeReturn: -1, length: 20, finished: true)
        #expect(schedule.assignment(for: 1) == [1])  // seed 1 came back from session 2
    }

    @Test func withoutAnEvaluatingSimulatorTrainingIsNotHeld() {
        var schedule = EvaluationSchedule()
        schedule.open(step: 5, episodes: 2)
        #expect(schedule.isOpen && !schedule.holdsTraining)
        #expect(schedule.assignment(for: 7).isEmpty)
    }
}
