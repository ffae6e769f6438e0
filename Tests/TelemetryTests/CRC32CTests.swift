import Testing
@testable import Telemetry

struct CRC32CTests {
    // MARK: - Known vectors

    /// The catalogue check value of CRC-32C and the iSCSI test patterns of RFC 3720, B.4.
    static let knownVectors: [(bytes: [UInt8], crc: UInt32)] = [
        (Array("123456789".utf8), 0xE306_9283),
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ((0..<32).map { UInt8($0) }, 0x46DD_794E),
        ((0..<32).map { UInt8(31 - $0) }, 0x113F_DB5C),
        ([], 0),
    ]

    @Test(arguments: knownVectors)
    func knownVector(bytes: [UInt8], crc: UInt32) {
        #expect(CRC32C.checksum(bytes) == crc)
    }

    @Test func maskRotatesAndAddsTheConstant() {
        let crc: UInt32 = 0xE306_9283
        let rotated = (crc >> 15) | (crc << 17)
        #expect(CRC32C.masked(crc) == rotated &+ 0xA282_EAD8)
        #expect(CRC32C.maskedChecksum(Array("123456789".utf8)) == 0xC78A_B0E5)
    }

    // MARK: - Slice-by-8 against the bitwise definition

    /// Every length from 0 to 40 crosses the 8-byte fast path's boundaries, and slices start mid-array.
    @Test func tableDrivenMatchesBitwise() {
        let data = (0..<64).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        for start in 0..<3 {
            for length in 0...40 {
                let slice = data[start..<start + length]
                #expect(CRC32C.checksum(slice) == bitwiseCRC32C(Array(slice)), "start \(start) length \(length)")
            }
        }
    }

    /// The definition, one bit at a time.
    private func bitwiseCRC32C(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }
}
