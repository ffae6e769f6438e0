import Testing
@testable import Telemetry

struct TFRecordTests {
    private let payloads: [[UInt8]] = [
        Array("brain.Event:2".utf8), [], (0..<300).map { UInt8(truncatingIfNeeded: $0) }, [0x2A],
    ]

    private func framed() -> [UInt8] {
        var bytes: [UInt8] = []
        for payload in payloads { TFRecord.write(payload, into: &bytes) }
        return bytes
    }

    // MARK: - Layout

    @Test func recordLayoutIsLengthCRCDataCRC() {
        let payload = Array("123456789".utf8)
        var bytes: [UInt8] = []
        TFRecord.write(payload, into: &bytes)
        #expect(bytes.count == payload.count + TFRecord.overhead)
        #expect(Array(bytes[0..<8]) == [9, 0, 0, 0, 0, 0, 0, 0])
        #expect(littleEndianUInt32(bytes, at: 8) == CRC32C.maskedChecksum(bytes[0..<8]))
        #expect(Array(bytes[12..<21]) == payload)
        #expect(littleEndianUInt32(bytes, at: 21) == 0xC78A_B0E5)
    }

    // MARK: - Reading back

    @Test func readerReturnsEveryPayloadInOrder() throws {
        var reader = TFRecordReader(bytes: framed())
        #expect(try reader.readAll() == payloads)
        #expect(try reader.readRecord() == nil)
    }

    /// Flipping any single byte of the file is caught by one of the two checksums.
    @Test func everyCorruptedByteIsDetected() {
        let bytes = framed()
        for index in bytes.indices {
            var corrupted = bytes
            corrupted[index] ^= 0x01
            var reader = TFRecordReader(bytes: corrupted)
            #expect(throws: TelemetryError.self, "byte \(index)") { _ = try reader.readAll() }
        }
    }

    @Test func corruptedPayloadNamesTheRecord() {
        var bytes = framed()
        let secondRecordStart = payloads[0].count + TFRecord.overhead
        let thirdRecordStart = secondRecordStart + TFRecord.overhead
        bytes[thirdRecordStart + 12 + 5] ^= 0x80
        var reader = TFRecordReader(bytes: bytes)
        #expect(throws: TelemetryError.dataChecksumMismatch(offset: thirdRecordStart)) { _ = try reader.readAll() }
        #expect(reader.offset == thirdRecordStart)
    }

    @Test func corruptedLengthIsRejectedBeforeUse() {
        var bytes = framed()
        bytes[3] = 0x7F  // claims ~2 TB
        var reader = TFRecordReader(bytes: bytes)
        #expect(throws: TelemetryError.lengthChecksumMismatch(offset: 0)) { _ = try reader.readRecord() }
    }

    @Test func lengthOverTheLimitIsRejected() {
        var bytes: [UInt8] = []
        TFRecord.write([UInt8](repeating: 1, count: 100), into: &bytes)
        var reader = TFRecordReader(bytes: bytes, maxPayloadBytes: 99)
        #expect(throws: TelemetryError.recordTooLarge(offset: 0, length: 100, limit: 99)) { _ = try reader.readRecord() }
    }

    /// A torn final write (every strict prefix of the last record) is reported as truncated, not misread.
    @Test func everyStrictPrefixOfARecordIsTruncated() {
        let bytes = framed()
        let lastStart = bytes.count - (payloads.last!.count + TFRecord.overhead)
        for end in lastStart + 1..<bytes.count {
            var reader = TFRecordReader(bytes: Array(bytes[..<end]))
            for _ in 0..<payloads.count - 1 { _ = try? reader.readRecord() }
            #expect(reader.offset == lastStart)
            do {
                _ = try reader.readRecord()
                Issue.record("prefix ending at \(end) was accepted")
            } catch {
                guard case .truncatedRecord(offset: lastStart, _, _) = error else {
                    Issue.record("prefix ending at \(end): \(error)")
                    continue
                }
            }
            #expect(reader.offset == lastStart)
        }
    }

    private func littleEndianUInt32(_ bytes: [UInt8], at index: Int) -> UInt32 {
        (0..<4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32(bytes[index + $1]) }
    }
}
