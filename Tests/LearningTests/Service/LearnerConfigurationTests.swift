import Learning
import Testing

@Suite struct LearnerConfigurationTests {
    func base() -> LearnerConfiguration {
        var c = LearnerConfiguration()
        c.agent.batchSize = 64
        c.agent.learningStarts = 200
        c.agent.bufferSize = 10_000
        return c
    }

    @Test func defaultsAreValid() throws {
        try base().validate()
    }

    @Test func aNonLoopbackListenerNeedsAToken() throws {
        var c = base()
        c.listen = "tcp://0.0.0.0:7700"
        #expect(throws: LearnerError.tokenRequired(url: "tcp://0.0.0.0:7700")) { try c.validate() }
        c.token = Array("t".utf8)
        try c.validate()
        c.token = []
        #expect(throws: LearnerError.emptyToken) { try c.validate() }
    }

    @Test func anErrorBufferTooNarrowForAFullBatchIsRefused() {
        var c = base()
        c.errorBuffer = 1000
        #expect(throws: LearnerError.self) { try c.validate() }
    }

    @Test func oneUpdatePerStepIsTheDefaultRatio() {
        let c = base()
        #expect(c.resolvedSamplesPerInsert == 64)
        #expect(c.resolvedMinReplay == 200)
    }

    @Test func unknownEnvironmentsNameTheKnownOnes() {
        var c = base()
        c.environment = "cartpole"
        #expect(throws: LearnerError.self) { try c.validate() }
    }
}
