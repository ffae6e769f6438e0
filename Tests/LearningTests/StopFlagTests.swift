import Foundation
import Testing

@testable import Learning

@Suite struct StopFlagTests {
    @Test func setReportsWhetherAStopWasAlreadyRequested() {
        let flag = StopFlag()
        #expect(!flag.isSet)
        #expect(flag.set() == false)
        #expect(flag.isSet)
        #expect(flag.set() == true)
    }

    @Test func aSignalSetsTheFlag() async throws {
        // SIGUSR2 keeps the test clear of the SIGINT/SIGTERM a test runner may use.
        let flag = StopFlag()
        let handlers = flag.installSignalHandlers([SIGUSR2])
        defer { handlers.cancel() }
        // The source registers asynchronously; a signal that arrives first is ignored.
        try await Task.sleep(for: .milliseconds(300))
        kill(getpid(), SIGUSR2)
        for _ in 0..<200 where !flag.isSet {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(flag.isSet)
    }
}
