import Learning
import Testing
import Wire

/// `--max-abs-observation` and `--max-abs-reward`: off by default, an ERROR naming field and row when set.
@Suite struct MagnitudeLimitsTests {
    let now = ContinuousClock.now

    private func ledger(_ limits: MagnitudeLimits) throws -> IngestLedger {
        let base = try makeLedger()
        var settings = base.settings
        settings.magnitudes = limits
        var ledger = IngestLedger(settings: settings, spec: base.spec, limiter: base.limiter, learnerRunID: 42)
        #expect(ledger.hello(hello(), now: now).isWelcome)
        return ledger
    }

    private func large(seq: UInt64, observation: Float = 0.5, reward: Float = -1) -> Wire.TransitionBatch {
        var b = batch(seq: seq)
        b.nextObservations[7] = observation
        b.rewards[3] = reward
        return b
    }

    @Test func offByDefault() throws {
        var ledger = try ledger(MagnitudeLimits())
        #expect(ledger.transitions(large(seq: 0, observation: 1e30, reward: -1e30), now: now).reply.ackStatus == .accepted)
    }

    @Test func anObservationBeyondTheBoundIsRefusedNamingFieldAndRow() throws {
        var ledger = try ledger(MagnitudeLimits(observation: 100))
        guard case .error(let error) = ledger.transitions(large(seq: 0, observation: -250), now: now).reply else {
            Issue.record("expected ERROR")
            return
        }
        #expect(error.code == .invalidValue && error.failedType == MessageType.transitions.rawValue)
        #expect(error.text.hasPrefix("transitions.next_observations of row 2 is -250.0"))
        #expect(error.text.contains("--max-abs-observation"))
        #expect(ledger.transitions(large(seq: 0, observation: 100), now: now).reply.ackStatus == .accepted)
    }

    @Test func aRewardBeyondTheBoundIsRefused() throws {
        var ledger = try ledger(MagnitudeLimits(reward: 10))
        guard case .error(let error) = ledger.transitions(large(seq: 0, reward: 11), now: now).reply else {
            Issue.record("expected ERROR")
            return
        }
        #expect(error.text.hasPrefix("transitions.rewards of row 3 is 11.0"))
        #expect(ledger.acceptedTransitions == 0)
    }

    @Test func actionRequestsSkipTheIgnoredRewardOfStartRows() {
        let limits = MagnitudeLimits(observation: 5, reward: 1)
        var request = ActionRequest(deterministic: false, observationSize: 2, actionSize: 1, episodeIDs: [1, 2],
                                    observations: [0, 0, 0, 0], previousRewards: [50, 0],
                                    events: [.start, .step], previousDoneFlags: [0, 0])
        #expect(limits.violation(in: request) == nil)
        request.previousRewards = [0, 2]
        #expect(limits.violation(in: request)?.text.hasPrefix("action_request.prev_rewards of row 1") == true)
        request.previousRewards = [0, 0]
        request.observations[3] = 6
        #expect(limits.violation(in: request)?.text.hasPrefix("action_request.observations of row 1") == true)
    }
}
