import Acting
import Testing
import Wire

@Suite struct VariableClientTests {
    @Test func pullsEveryPeriod() {
        var client = VariableClient(updatePeriod: 100)
        #expect(client.isDue(envSteps: 0))
        client.didPull(envSteps: 0)
        #expect(!client.isDue(envSteps: 99))
        #expect(client.isDue(envSteps: 100))
    }

    @Test func pullsAtOnceWhenTheFirstTrainedPolicyExists() {
        var client = VariableClient(updatePeriod: 1000)
        client.didPull(envSteps: 0)
        #expect(!client.isDue(envSteps: 10))
        client.observe(learnerVersion: 1)
        #expect(client.isDue(envSteps: 10))
        client.didPull(envSteps: 10)
        client.didLoad(version: 1)
        client.observe(learnerVersion: 50)
        #expect(!client.isDue(envSteps: 20))
        #expect(client.heldVersion == 1)
    }

    @Test func aNewLearnerRunDropsTheHeldVersionAndPullsAtOnce() {
        var client = VariableClient(updatePeriod: 1000)
        client.didPull(envSteps: 0)
        client.didLoad(version: 500)
        #expect(!client.isDue(envSteps: 10))
        // A fresh learner numbers from 0: its version 3 must replace the dead learner's 500.
        client.reset(learnerVersion: 3)
        #expect(client.heldVersion == 0)
        #expect(client.isDue(envSteps: 10))
        client.didPull(envSteps: 10)
        client.didLoad(version: 3)
        #expect(client.heldVersion == 3)
    }
}

@Suite struct VariableClientLagRuleTests {
    private let start = ContinuousClock.now

    @Test func pullsOnceTheLearnerIsTheLagAhead() {
        var client = VariableClient(updatePeriod: 1000, lagRule: WeightsLagRule(maxLagVersions: 20, maxAgeMs: 0))
        client.didPull(envSteps: 0, now: start)
        client.didLoad(version: 100)
        client.observe(learnerVersion: 119)
        #expect(!client.isDue(envSteps: 5, now: start))
        client.observe(learnerVersion: 120)
        #expect(client.isDue(envSteps: 5, now: start))
    }

    @Test func pullsOnceTheHeldWeightsAreOldAndNewerExist() {
        var client = VariableClient(updatePeriod: 1000, lagRule: WeightsLagRule(maxLagVersions: 0, maxAgeMs: 500))
        client.didPull(envSteps: 0, now: start)
        client.didLoad(version: 100)
        #expect(!client.isDue(envSteps: 5, now: start + .seconds(10)), "nothing newer exists")
        client.observe(learnerVersion: 101)
        #expect(!client.isDue(envSteps: 5, now: start + .milliseconds(499)))
        #expect(client.isDue(envSteps: 5, now: start + .milliseconds(500)))
    }

    @Test func withoutARuleOnlyThePeriodCounts() {
        var client = VariableClient(updatePeriod: 1000)
        client.didPull(envSteps: 0, now: start)
        client.didLoad(version: 1)
        client.observe(learnerVersion: 5000)
        #expect(!client.isDue(envSteps: 999, now: start + .seconds(60)))
        #expect(client.isDue(envSteps: 1000, now: start))
    }
}
