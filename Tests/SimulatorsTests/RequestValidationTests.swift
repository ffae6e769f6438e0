import Simulators
import Testing
import Wire

/// A refused ACTION_REQUEST names the field, maps to the spec's code, and changes nothing.
struct RequestValidationTests {
    /// A harness with two running episodes (1 and 2), each with a recorded action.
    private func running() throws -> Harness {
        var h = Harness()
        try h.exchange([.start(1, [1, 1]), .start(2, [2, 2])])
        return h
    }

    /// Expects `rows` to be refused with `expected`, and the episodes and counters untouched.
    private func expectRefused(_ rows: [Row], observationSize: Int = TestSpace.observation,
                               actionSize: Int = TestSpace.action, session: UInt64 = 1,
                               as expected: SimulatorError, code: ErrorCode) throws {
        var h = try running()
        let before = (h.episodes.counters, h.episodes.runningEpisodes(in: session), h.episodes.sessionCount)
        let request = actionRequest(rows, observationSize: observationSize, actionSize: actionSize)
        #expect(throws: expected) {
            try h.episodes.handle(request: request, session: session, requestID: 99, now: h.at(1))
        }
        #expect(expected.code == code)
        #expect(h.episodes.counters == before.0)
        #expect(h.episodes.runningEpisodes(in: session) == before.1)
        #expect(h.episodes.sessionCount == before.2)
        // The episodes go on as if the refused request never came.
        let next = try h.exchange([.step(1, [3, 3], reward: 1), .step(2, [4, 4], reward: 2)], at: 2)
        #expect(next.prepared.transitions.rows.map(\.observation) == [[1, 1], [2, 2]])
    }

    // MARK: - Rows

    @Test func episodeNamedTwiceIsMalformed() throws {
        try expectRefused([.step(1, [5, 5], reward: 1), .step(2, [3, 3], reward: 1), .start(1, [0, 0])],
                          as: .duplicateEpisode(episodeID: 1, row: 2), code: .malformed)
        try expectRefused([.start(1, [0, 0]), .end(1, [5, 5], reward: 1, flags: .terminated)],
                          as: .duplicateEpisode(episodeID: 1, row: 1), code: .malformed)
        // END then START is the one repeat allowed, and only once.
        try expectRefused([.end(1, [5, 5], reward: 1, flags: .terminated), .start(1, [0, 0]),
                           .step(1, [3, 3], reward: 1)],
                          as: .duplicateEpisode(episodeID: 1, row: 2), code: .malformed)
        #expect(SimulatorError.duplicateEpisode(episodeID: 1, row: 2).field == "action_request.episode_ids")
    }

    @Test func aSlotThatResetsEndsAndStartsTheSameIDInOneRequest() throws {
        // The pattern of the golden vector action_request.bin: END 5, START 5, STEP 6.
        var h = try running()
        let reply = try h.exchange([.end(1, [5, 5], reward: 1, flags: .terminated), .start(1, [0, 0]),
                                    .step(2, [3, 3], reward: 2)], at: 1)
        #expect(reply.prepared.transitions.rows.count == 2)
        #expect(h.episodes.runningEpisodes(in: 1) == [1, 2])
        // The new episode 1 goes on from its reset observation.
        let next = try h.exchange([.step(1, [7, 7], reward: 1)], at: 2)
        #expect(next.prepared.transitions.rows.map(\.observation) == [[0, 0]])
    }

    @Test func stepWithDoneFlagsIsInvalid() throws {
        var step = Row.step(2, [3, 3], reward: 1)
        step.flags = DoneFlags.terminated.rawValue
        try expectRefused([.step(1, [3, 3], reward: 1), step], as: .doneFlagsOnStep(row: 1), code: .invalidValue)
    }

    @Test func startFlagsAreIgnoredAsTheSpecSays() throws {
        var h = Harness()
        var start = Row.start(1, [1, 1])
        start.flags = DoneFlags.truncated.rawValue
        let reply = try h.exchange([start])
        #expect(reply.prepared.actingCount == 1)
    }

    @Test func columnsOfTheWrongLengthAreMalformed() throws {
        var h = Harness()
        var request = actionRequest([.start(1, [1, 1])])
        request.previousRewards = []
        #expect(throws: SimulatorError.shapeMismatch(field: "action_request.prev_rewards", expected: 1, actual: 0)) {
            try h.episodes.handle(request: request, session: 1, requestID: 1, now: h.at(0))
        }
        #expect(h.episodes.sessionCount == 0)
    }

    // MARK: - Spaces

    @Test func observationDimensionOtherThanAgreedIsASpaceMismatch() throws {
        try expectRefused([.start(3, [1, 1, 1])], observationSize: 3,
                          as: .spaceMismatch(field: "action_request.obs_dim", expected: 2, actual: 3),
                          code: .spaceMismatch)
    }

    @Test func actionDimensionOtherThanAgreedIsASpaceMismatch() throws {
        try expectRefused([.start(3, [1, 1])], actionSize: 1,
                          as: .spaceMismatch(field: "action_request.action_dim", expected: 2, actual: 1),
                          code: .spaceMismatch)
    }

    // MARK: - Limits

    @Test func episodesBeyondTheSessionLimitAreFull() throws {
        var h = Harness(limits: SimulatorLimits(maxSessions: 4, maxEpisodesPerSession: 2))
        try h.exchange([.start(1, [1, 1]), .start(2, [2, 2])])
        let request = actionRequest([.step(1, [3, 3], reward: 1), .start(3, [0, 0])])
        #expect(throws: SimulatorError.tooManyEpisodes(session: 1, limit: 2)) {
            try h.episodes.handle(request: request, session: 1, requestID: 50, now: h.at(1))
        }
        #expect(SimulatorError.tooManyEpisodes(session: 1, limit: 2).code == .full)
        #expect(h.episodes.runningEpisodes(in: 1) == [1, 2])
        #expect(h.episodes.counters.transitionsBuilt == 0)
    }

    @Test func endRowsFreeRoomForTheStartsInTheSameRequest() throws {
        var h = Harness(limits: SimulatorLimits(maxSessions: 4, maxEpisodesPerSession: 2))
        try h.exchange([.start(1, [1, 1]), .start(2, [2, 2])])
        try h.exchange([.end(1, [3, 3], reward: 1, flags: .truncated), .start(3, [0, 0]), .step(2, [1, 0], reward: 0)])
        #expect(h.episodes.runningEpisodes(in: 1) == [2, 3])
    }

    @Test func firstRequestOfANewSessionIsCheckedAgainstTheEpisodeLimit() throws {
        var h = Harness(limits: SimulatorLimits(maxSessions: 4, maxEpisodesPerSession: 1))
        let request = actionRequest([.start(1, [1, 1]), .start(2, [2, 2])])
        #expect(throws: SimulatorError.tooManyEpisodes(session: 1, limit: 1)) {
            try h.episodes.handle(request: request, session: 1, requestID: 1, now: h.at(0))
        }
        #expect(h.episodes.sessionCount == 0)
    }

    @Test func sessionsBeyondTheLimitAreFull() throws {
        var h = Harness(limits: SimulatorLimits(maxSessions: 2, maxEpisodesPerSession: 8))
        try h.exchange([.start(1, [1, 1])], session: 1)
        try h.episodes.openSession(2, now: h.at(0))
        try h.episodes.openSession(2, now: h.at(0))
        #expect(throws: SimulatorError.tooManySessions(limit: 2)) {
            try h.episodes.openSession(3, now: h.at(0))
        }
        #expect(throws: SimulatorError.tooManySessions(limit: 2)) {
            try h.exchange([.start(1, [1, 1])], session: 3)
        }
        #expect(h.episodes.sessionCount == 2 && !h.episodes.contains(session: 3))
        h.episodes.endSession(2)
        try h.exchange([.start(1, [1, 1])], session: 3)
        #expect(h.episodes.contains(session: 3))
    }

    // MARK: - Messages

    @Test func everyErrorSaysWhatToChange() {
        let errors: [SimulatorError] = [
            .spaceMismatch(field: "action_request.obs_dim", expected: 2, actual: 3),
            .duplicateEpisode(episodeID: 7, row: 1), .shapeMismatch(field: "action_request.events", expected: 2, actual: 1),
            .doneFlagsOnStep(row: 0), .tooManySessions(limit: 2), .tooManyEpisodes(session: 1, limit: 3),
        ]
        for error in errors {
            #expect(!error.description.isEmpty)
            if let field = error.field { #expect(error.description.contains(field)) }
        }
    }
}
