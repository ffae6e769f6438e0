import Foundation
import Testing
@testable import Wire

/// Seeded mutation fuzzing over every golden vector: whatever the bytes, decoding returns a
/// frame or throws a `WireError`; it never traps, and what it accepts re-encodes byte for byte.
///
/// `MEOW_FUZZ_ITERATIONS` runs longer (e.g. 10_000_000 overnight), `MEOW_FUZZ_SEED` varies the
/// inputs. Half of the mutants are re-sealed (length and checksum fixed up) so they get past the
/// header and exercise the payload decoders.
@Suite struct FuzzTests {
    /// The default budget: well under 20 s in a debug build on this machine.
    static let defaultIterations = 500_000

    static var iterations: Int {
        ProcessInfo.processInfo.environment["MEOW_FUZZ_ITERATIONS"].flatMap(Int.init) ?? defaultIterations
    }

    static var seed: UInt64 {
        ProcessInfo.processInfo.environment["MEOW_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0xF022
    }

    /// Values that tend to break length arithmetic.
    static let interestingWords: [UInt32] = [
        0, 1, 2, 3, 4, 7, 8, 11, 16, 255, 256, 1023, 1024, 4096, 8192, 65535, 65536,
        0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFF0, 0xFFFF_FFFE, 0xFFFF_FFFF,
    ]

    // MARK: - Mutations

    static func mutate(_ input: [UInt8], corpus: [[UInt8]], rng: inout SeededGenerator) -> [UInt8] {
        var bytes = input
        let rounds = rng.int(1 ... 3)
        for _ in 0 ..< rounds {
            switch rng.int(0 ... 6) {
            case 0 where !bytes.isEmpty:  // bit flips
                for _ in 0 ..< rng.int(1 ... 4) {
                    let i = rng.int(0 ... bytes.count - 1)
                    bytes[i] ^= 1 << UInt8(rng.int(0 ... 7))
                }
            case 1:  // insert bytes
                let at = rng.int(0 ... bytes.count)
                bytes.insert(contentsOf: rng.bytes(rng.int(1 ... 8)), at: at)
            case 2 where !bytes.isEmpty:  // delete bytes
                let at = rng.int(0 ... bytes.count - 1)
                bytes.removeSubrange(at ..< min(bytes.count, at + rng.int(1 ... 8)))
            case 3 where bytes.count >= 4:  // corrupt a length-like word
                let at = rng.int(0 ... bytes.count - 4)
                let word = interestingWords[rng.int(0 ... interestingWords.count - 1)]
                    &+ UInt32(bitPattern: Int32(rng.int(-2 ... 2)))
                for k in 0 ..< 4 { bytes[at + k] = UInt8(truncatingIfNeeded: word >> (8 * k)) }
            case 4:  // splice two frames
                let other = corpus[rng.int(0 ... corpus.count - 1)]
                let cut = rng.int(0 ... bytes.count)
                let from = rng.int(0 ... other.count)
                bytes = Array(bytes[0 ..< cut]) + Array(other[from...])
            case 5 where !bytes.isEmpty:  // overwrite with edge bytes
                let i = rng.int(0 ... bytes.count - 1)
                bytes[i] = [0x00, 0x01, 0x7F, 0x80, 0xFF][rng.int(0 ... 4)]
            case 6:  // truncate
                bytes = Array(bytes[0 ..< rng.int(0 ... bytes.count)])
            default:
                break
            }
        }
        return bytes
    }

    // MARK: - The run

    @Test func mutatedFramesNeverTrapAndAcceptedFramesReencodeExactly() throws {
        let corpus = try Vectors.names().map { try Vectors.bytes($0) }
        var rng = SeededGenerator(seed: Self.seed)
        var accepted = 0
        var rejections: [ErrorCode: Int] = [:]
        let start = Date()
        for _ in 0 ..< Self.iterations {
            var input = Self.mutate(corpus[rng.int(0 ... corpus.count - 1)], corpus: corpus, rng: &rng)
            if input.count >= WireV1.headerSize, rng.int(0 ... 1) == 1 { input = reseal(input) }
            do {
                let frame = try Frame.decode(input)
                accepted += 1
                let again = try frame.encode()
                if again != input {
                    Issue.record("accepted frame re-encodes differently: \(input)")
                    return
                }
            } catch {
                rejections[error.code, default: 0] += 1
            }
        }
        let seconds = Date().timeIntervalSince(start)
        let summary = rejections.sorted { $0.key.rawValue < $1.key.rawValue }
            .map { "\($0.key.name)=\($0.value)" }.joined(separator: " ")
        print("fuzz: \(Self.iterations) inputs (seed \(Self.seed)) in \(String(format: "%.1f", seconds)) s; "
            + "accepted \(accepted); rejected \(summary)")
        #expect(accepted + rejections.values.reduce(0, +) == Self.iterations)
        // The mutants must reach the payload decoders, not only the header checks.
        #expect(rejections[.truncated, default: 0] > 0 && rejections[.badChecksum, default: 0] > 0)
        #expect(rejections[.nonFinite, default: 0] + rejections[.invalidValue, default: 0]
            + rejections[.malformed, default: 0] > 0)
    }
}
