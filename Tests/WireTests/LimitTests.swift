import Foundation
import Testing
@testable import Wire

/// Lengths are checked against `WireLimits` before anything is allocated, so a forged length
/// costs the receiver nothing (nng itself allocates claimed lengths: PROTOCOL.md section 1.1).
@Suite(.serialized) struct LimitTests {
    // MARK: - Claims of gigabytes

    /// The process's peak resident set (VmHWM) in KiB, or nil off Linux.
    static func peakRSSKiB() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "")
        }
        return nil
    }

    /// Frames whose length fields claim gigabytes, each re-sealed so only the claim is wrong.
    static func forgedFrames() throws -> [(String, [UInt8])] {
        let transitions = try Vectors.bytes("transitions_hopper")
        let weights = try Vectors.bytes("weights_chunk0")
        func patch(_ bytes: [UInt8], at offset: Int, _ value: UInt32) -> [UInt8] {
            var copy = bytes
            for k in 0 ..< 4 { copy[offset + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
            return reseal(copy)
        }
        var header = Array(transitions[0 ..< 24])
        for k in 0 ..< 4 { header[16 + k] = 0xFF }
        return [
            ("header payload_length 4 GiB", header),
            ("transitions count", patch(transitions, at: 24 + 4, 0xFFFF_FFFF)),
            ("transitions obs_dim", patch(transitions, at: 24 + 32, 0x4000_0000)),
            ("weights data_length", patch(weights, at: weights.count - 64 - 4, 0xFFFF_FFF0)),  // chunk 0 holds 64 bytes
        ]
    }

    @Test func gigabyteClaimsAreRefusedWithoutAllocating() throws {
        let frames = try Self.forgedFrames()
        let before = try #require(Self.peakRSSKiB())
        for (name, bytes) in frames {
            for _ in 0 ..< 100 {
                let error = wireError { () throws(WireError) in try Frame.decode(bytes) }
                #expect(error?.code == .lengthOverLimit, "\(name): \(String(describing: error))")
            }
        }
        let after = try #require(Self.peakRSSKiB())
        // A single honoured claim would add at least 1 GiB; allow a few MiB of noise.
        #expect(after - before < 4 * 1024, "peak RSS grew by \(after - before) KiB")
    }

    @Test func claimsWithinTheLimitButBeyondTheFrameAreTruncated() throws {
        var limits = WireLimits()
        limits.maxTransitionsPerBatch = .max
        limits.maxObservationElements = .max
        var bytes = try Vectors.bytes("transitions_hopper")
        for k in 0 ..< 4 { bytes[24 + 32 + k] = 0xFF }  // obs_dim = 2^32 - 1
        for k in 0 ..< 4 { bytes[24 + 4 + k] = 0xFF }   // count = 2^32 - 1: the product overflows nothing
        let error = wireError { () throws(WireError) in try Frame.decode(reseal(bytes), limits: limits) }
        #expect(error?.code == .truncated)
    }

    // MARK: - Configured limits

    @Test func eachCountIsComparedWithItsLimit() throws {
        var limits = WireLimits()
        limits.maxTransitionsPerBatch = 3
        let bytes = try Vectors.bytes("transitions_hopper")
        #expect(wireError { () throws(WireError) in try Frame.decode(bytes, limits: limits) }
            == .lengthOverLimit(field: "transitions.count", limit: 3, claimed: 4))

        limits = WireLimits()
        limits.maxStringBytes = 5
        let hello = try Vectors.bytes("hello_actor")
        #expect(wireError { () throws(WireError) in try Frame.decode(hello, limits: limits) }
            == .lengthOverLimit(field: "hello.client_name", limit: 5, claimed: 10))

        limits = WireLimits()
        limits.maxFrameBytes = 100
        #expect(wireError { () throws(WireError) in try Frame.decode(bytes, limits: limits) }?.field
            == "header.payload_length")

        limits = WireLimits()
        limits.maxTensorCount = 2
        let weights = try Vectors.bytes("weights_chunk0")
        #expect(wireError { () throws(WireError) in try Frame.decode(weights, limits: limits) }
            == .lengthOverLimit(field: "weights.tensor_count", limit: 2, claimed: 4))
    }

    @Test func encodingAFrameOverTheLimitIsRefused() {
        var rng = SeededGenerator(seed: 9)
        var limits = WireLimits()
        limits.maxFrameBytes = 1000
        let batch = RandomMessages.transitions(&rng, count: 50, observationSize: 11, actionSize: 3)
        let error = wireError { () throws(WireError) in try Frame(.transitions(batch)).encode(limits: limits) }
        #expect(error?.field == "header.payload_length")
    }
}
