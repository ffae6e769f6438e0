import Foundation
import Testing
@testable import Transport

/// Whether Python can import pynng (0.9.0 bundles nng 1.11).
private let pynngAvailable = commandSucceeds(["python3", "-c", "import pynng"])

/// The pynng peer script next to these tests.
private let interopScript = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().appendingPathComponent("Python/interop.py").path

@Suite(.enabled(if: pynngAvailable, "python3 cannot import pynng; interop tests need it"), .ownExecutor)
struct InteropTests {
    // MARK: - pynng peers

    @Test func swiftReplyAnswersPythonRequests() async throws {
        let server = try ReplySocket()
        let url = try listenOnFreePort(server)
        let serving = startServer(server, contexts: 2)

        let result = try await runProcess(["python3", interopScript, "client", url, "25"])
        #expect(result.status == 0, "python client: \(result.errorOutput)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "ok 25")

        server.close()
        try await serving.value
    }

    @Test func pythonReplyAnswersSwiftRequests() async throws {
        let url = "tcp://127.0.0.1:\(try freePort())"
        let python = Task { try await runProcess(["python3", interopScript, "server", url]) }

        // The dialer retries until Python is listening; a loaded machine can take many
        // seconds to start an interpreter and import pynng, so wait generously.
        let client = try RequestSocket(options: clientOptions(receiveTimeout: .seconds(60)))
        try client.dial(url)
        let sizes = [1, 64, 4096, 1 << 20, 17]
        for (index, size) in sizes.enumerated() {
            let request = testBytes(count: size, seed: UInt64(index))
            #expect(try await client.request(request) == Array(request.reversed()))
        }
        #expect(try await client.request(Array("quit".utf8)) == Array("bye".utf8))

        let result = try await python.value
        #expect(result.status == 0, "python server: \(result.errorOutput)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines) == "served \(sizes.count)")
        client.close()
    }
}
