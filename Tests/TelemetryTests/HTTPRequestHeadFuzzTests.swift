import Foundation
import Testing
@testable import Telemetry

/// Seeded mutation fuzzing of the request-head parser, which reads bytes from the network.
///
/// Whatever the bytes, `parse` returns a head, a refusal or "need more"; it never traps, what it
/// accepts has the shape the server relies on, and feeding the same bytes in pieces (as the
/// server does, with `searchFrom`) gives the answer that parsing the same prefix at once gives.
///
/// `MEOW_FUZZ_ITERATIONS` runs longer (10_000_000 for the figure in docs/metrics.md),
/// `MEOW_FUZZ_SEED` varies the inputs. Most inputs are mutants of valid requests; one in eight
/// is random bytes, some with a head terminator appended so they reach the line checks.
@Suite struct HTTPRequestHeadFuzzTests {
    /// The default budget: a few seconds in a debug build on this machine.
    static let defaultIterations = 150_000

    static var iterations: Int {
        ProcessInfo.processInfo.environment["MEOW_FUZZ_ITERATIONS"].flatMap(Int.init) ?? defaultIterations
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["MEOW_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0x4877
    }

    /// Small limits, so mutants cross them often.
    static let limits = HTTPRequestHead.Limits(maxBytes: 512, maxRequestLineBytes: 96, maxHeaderCount: 6)

    static let corpus: [[UInt8]] = [
        "GET /metrics HTTP/1.1\r\nHost: learner:9100\r\nAccept: text/plain\r\n\r\n",
        "HEAD /healthz HTTP/1.0\r\n\r\n",
        "GET /readyz?verbose=1 HTTP/1.1\r\nUser-Agent: kube-probe/1.30\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nAuthorization: Bearer s3cret-token\r\nX-Prometheus-Scrape-Timeout-Seconds: 10\r\n\r\n",
        "POST /metrics HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody",
    ].map { Array($0.utf8) }

    /// Bytes that matter to the parser.
    static let specials: [UInt8] = [0x0D, 0x0A, 0x20, 0x09, 0x3A, 0x2F, 0x3F, 0x23, 0x00, 0x7F, 0x80, 0xFF]

    // MARK: - Mutations

    static func mutate(_ input: [UInt8], rng: inout FuzzGenerator) -> [UInt8] {
        var bytes = input
        for _ in 0 ..< rng.int(1 ... 3) {
            switch rng.int(0 ... 6) {
            case 0 where !bytes.isEmpty:  // bit flip
                let i = rng.int(0 ... bytes.count - 1)
                bytes[i] ^= 1 << UInt8(rng.int(0 ... 7))
            case 1:  // insert special or random bytes
                let at = rng.int(0 ... bytes.count)
                let insert = rng.int(0 ... 1) == 0
                    ? [specials[rng.int(0 ... specials.count - 1)]] : rng.bytes(rng.int(1 ... 8))
                bytes.insert(contentsOf: insert, at: at)
            case 2 where !bytes.isEmpty:  // delete bytes
                let at = rng.int(0 ... bytes.count - 1)
                bytes.removeSubrange(at ..< min(bytes.count, at + rng.int(1 ... 8)))
            case 3:  // repeat a header line or pad, to cross the count and size limits
                let line = Array("X-Pad: \(String(repeating: "a", count: rng.int(0 ... 120)))\r\n".utf8)
                let at = bytes.firstIndex(of: 0x0A).map { $0 + 1 } ?? 0
                for _ in 0 ..< rng.int(1 ... 8) { bytes.insert(contentsOf: line, at: min(at, bytes.count)) }
            case 4:  // splice two requests
                let other = corpus[rng.int(0 ... corpus.count - 1)]
                bytes = Array(bytes[0 ..< rng.int(0 ... bytes.count)]) + Array(other[rng.int(0 ... other.count)...])
            case 5 where !bytes.isEmpty:  // overwrite with a special byte
                bytes[rng.int(0 ... bytes.count - 1)] = specials[rng.int(0 ... specials.count - 1)]
            case 6:  // truncate
                bytes = Array(bytes[0 ..< rng.int(0 ... bytes.count)])
            default:
                break
            }
        }
        return bytes
    }

    /// Feeds `input` in random pieces as the server does; the first answer and the bytes it took.
    static func parseInPieces(_ input: [UInt8], rng: inout FuzzGenerator)
        -> (outcome: Result<HTTPRequestHead, HTTPRequestHead.ParseError>?, consumed: Int) {
        var received: [UInt8] = []
        var scanned = 0
        var offset = 0
        while offset < input.count {
            let take = min(input.count - offset, rng.int(1 ... 64))
            received += input[offset ..< offset + take]
            offset += take
            if let outcome = HTTPRequestHead.parse(received, limits: limits, searchFrom: scanned) {
                return (outcome, received.count)
            }
            scanned = max(0, received.count - 3)
        }
        return (nil, received.count)
    }

    // MARK: - The run

    @Test func mutatedRequestsNeverTrapAndPiecesAgreeWithTheWhole() {
        var rng = FuzzGenerator(seed: Self.seed)
        var outcomes: [String: Int] = [:]
        let start = Date()
        for iteration in 0 ..< Self.iterations {
            var input: [UInt8]
            if rng.int(0 ... 7) == 0 {
                input = rng.bytes(rng.int(0 ... 600))
                if rng.int(0 ... 1) == 0 { input += [0x0D, 0x0A, 0x0D, 0x0A] }
            } else {
                input = Self.mutate(Self.corpus[rng.int(0 ... Self.corpus.count - 1)], rng: &rng)
            }
            let (outcome, consumed) = Self.parseInPieces(input, rng: &rng)
            let whole = HTTPRequestHead.parse(Array(input[..<consumed]), limits: Self.limits)
            guard outcome == whole else {
                Issue.record("iteration \(iteration): in pieces \(String(describing: outcome)), at once \(String(describing: whole)) for \(input)")
                return
            }
            switch outcome {
            case .success(let head)?:
                outcomes["accepted", default: 0] += 1
                let valid = head.path.hasPrefix("/") && !head.path.contains("?") && !head.method.isEmpty
                    && (head.version == "HTTP/1.1" || head.version == "HTTP/1.0")
                    && Array(input.prefix(head.method.utf8.count + 1)) == Array((head.method + " ").utf8)
                    && HTTPRequestHead.endOfHead(Array(input[..<consumed])).map { $0 + 4 <= Self.limits.maxBytes } == true
                guard valid else {
                    Issue.record("iteration \(iteration): accepted a head of the wrong shape \(head) from \(input)")
                    return
                }
            case .failure(let error)?:
                outcomes["\(error)", default: 0] += 1
            case nil:
                outcomes["incomplete", default: 0] += 1
                guard input.count < Self.limits.maxBytes else {
                    Issue.record("iteration \(iteration): \(input.count) bytes still incomplete, over the limit")
                    return
                }
            }
        }
        let seconds = Date().timeIntervalSince(start)
        print("HTTP head fuzz: \(Self.iterations) inputs in \(String(format: "%.1f", seconds)) s, seed \(Self.seed): "
            + outcomes.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        #expect(outcomes["accepted", default: 0] > 0 && outcomes["malformed", default: 0] > 0)
        if Self.iterations >= 10_000 {
            #expect(outcomes["tooLarge", default: 0] > 0 && outcomes["requestLineTooLong", default: 0] > 0,
                    "mutants cross every limit")
        }
    }
}

/// SplitMix64, as in the wire fuzz test: the same seed gives the same inputs on every platform.
struct FuzzGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    mutating func bytes(_ count: Int) -> [UInt8] { (0 ..< count).map { _ in UInt8(truncatingIfNeeded: next()) } }
}
