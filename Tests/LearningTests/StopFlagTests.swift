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

    @Test(.timeLimit(.minutes(1))) func aSignalSetsTheFlag() async {
        // SIGUSR2 keeps the test clear of the SIGINT/SIGTERM a test runner may use.
        let flag = StopFlag()
        let handlers = flag.installSignalHandlers([SIGUSR2])
        defer { handlers.cancel() }
        // Installed means registered: a signal raised now reaches the flag, and wait() returns.
        kill(getpid(), SIGUSR2)
        await flag.wait()
        #expect(flag.isSet)
    }

    // MARK: - Waiting

    @Test func waitReturnsWhenTheFlagIsSetAndAtOnceWhenAlreadySet() async {
        let flag = StopFlag()
        let (started, didStart) = AsyncStream.makeStream(of: Void.self)
        let waiter = Task {
            didStart.yield()
            await flag.wait()
            return flag.isSet
        }
        for await _ in started { break }
        flag.set()
        #expect(await waiter.value)
        // Set already: no suspension.
        await flag.wait()
    }

    @Test func aCancelledWaitReturnsWithoutTheFlag() async {
        let flag = StopFlag()
        let waiter = Task { await flag.wait() }
        waiter.cancel()
        await waiter.value
        #expect(!flag.isSet)
    }
}
