import Foundation
@testable import Wire

// MARK: - Seeded randomness

/// SplitMix64: a tiny seeded generator so every random test is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    mutating func floats(_ count: Int, in range: ClosedRange<Float> = -5 ... 5) -> [Float] {
        (0 ..< count).map { _ in Float.random(in: range, using: &self) }
    }

    mutating func word<T: FixedWidthInteger & UnsignedInteger>(_: T.Type = T.self) -> T {
        T(truncatingIfNeeded: next())
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }

    mutating func text(maxLength: Int = 24) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789-_. é猫")
        return String((0 ..< int(0 ... maxLength)).map { _ in alphabet[int(0 ... alphabet.count - 1)] })
    }

    mutating func bytes(_ count: Int) -> [UInt8] { (0 ..< count).map { _ in word(UInt8.self) } }
}

// MARK: - Golden vectors

/// protocol/vectors, found from this file's path so tests run from any working directory.
enum Vectors {
    static let directory: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("protocol/vectors")

    /// Every vector's name (without extension), sorted.
    static func names() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".bin") }
            .map { String($0.dropLast(4)) }
            .sorted()
    }

    static func bytes(_ name: String) throws -> [UInt8] { try bytesOf(name + ".bin") }

    static func bytesOf(_ file: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
    }

    /// The valid vectors' frames, as bytes.
    static func validFrames() throws -> [(name: String, bytes: [UInt8])] {
        try names().filter { !$0.hasPrefix("bad_") }.map { ($0, try bytes($0)) }
    }
}

/// Whether `body` throws exactly a `WireError` and nothing else; returns it.
func wireError<T>(_ body: () throws(WireError) -> T) -> WireError? {
    do {
        _ = try body()
        return nil
    } catch {
        return error
    }
}

/// Re-seals a hand-edited frame: patches payload_length and recomputes the checksum.
func reseal(_ frame: [UInt8]) -> [UInt8] {
    var bytes = frame
    let length = UInt32(bytes.count - WireV1.headerSize)
    for k in 0 ..< 4 { bytes[16 + k] = UInt8(truncatingIfNeeded: length >> (8 * k)) }
    let crc = Frame.checksum(bytes)
    for k in 0 ..< 4 { bytes[20 + k] = UInt8(truncatingIfNeeded: crc >> (8 * k)) }
    return bytes
}
