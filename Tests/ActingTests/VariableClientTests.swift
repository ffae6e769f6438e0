import Acting
import Testing

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
