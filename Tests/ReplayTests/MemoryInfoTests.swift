import Testing
import Replay

@Suite struct MemoryInfoTests {
    @Test func parsesMemAvailableInKibibytes() {
        let text = """
            MemTotal:       24576000 kB
            MemFree:         1000000 kB
            MemAvailable:   20000000 kB
            Buffers:          123456 kB
            """
        #expect(MemoryInfo.parseAvailableBytes(text) == 20_000_000 * 1024)
    }

    @Test func missingOrMalformedLinesGiveNil() {
        #expect(MemoryInfo.parseAvailableBytes("MemTotal: 1 kB\nMemFree: 1 kB") == nil)
        #expect(MemoryInfo.parseAvailableBytes("MemAvailable: lots kB") == nil)
        #expect(MemoryInfo.parseAvailableBytes("MemAvailable: 12 MB") == nil)
    }

    @Test func readsTheRealFileOnLinux() {
        #if os(Linux)
        let available = MemoryInfo.availableBytes()
        #expect(available.map { $0 > 1 << 20 } == true)
        #endif
        #expect(MemoryInfo.availableBytes(path: "/nonexistent/meminfo") == nil)
    }
}
