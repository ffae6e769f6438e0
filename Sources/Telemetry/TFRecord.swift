/// TFRecord framing: the container format of TensorBoard event files.
///
/// Each record is `uint64 length (LE) | uint32 masked CRC-32C of those 8 bytes |
/// payload | uint32 masked CRC-32C of the payload`. The length's own checksum
/// lets a reader reject a torn or corrupted length before trusting it to
/// allocate or skip.
public enum TFRecord {
    /// Bytes of framing around each payload (length, its CRC, the payload's CRC).
    public static let overhead = 16

    /// Appends `payload` framed as one record to `buffer`.
    public static func write(_ payload: [UInt8], into buffer: inout [UInt8]) {
        let start = buffer.count
        let length = UInt64(payload.count)
        for shift in stride(from: 0, to: 64, by: 8) { buffer.append(UInt8(truncatingIfNeeded: length >> UInt64(shift))) }
        appendUInt32LittleEndian(CRC32C.maskedChecksum(buffer[start..<start + 8]), to: &buffer)
        buffer.append(contentsOf: payload)
        appendUInt32LittleEndian(CRC32C.maskedChecksum(payload), to: &buffer)
    }

    private static func appendUInt32LittleEndian(_ value: UInt32, to buffer: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { buffer.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }
}

/// Reads TFRecord-framed payloads back, checking both checksums of each.
///
/// Used by tests and tools to verify event files without TensorBoard. A short
/// read throws `.truncatedRecord` and leaves `offset` where the record began.
public struct TFRecordReader {
    private let bytes: [UInt8]

    /// Where the next record starts.
    public private(set) var offset = 0

    /// The largest payload accepted; a corrupted length must not ask for gigabytes.
    public let maxPayloadBytes: Int

    public init(bytes: [UInt8], maxPayloadBytes: Int = 64 << 20) {
        self.bytes = bytes
        self.maxPayloadBytes = maxPayloadBytes
    }

    /// The next payload, or nil at a clean end of the data.
    public mutating func readRecord() throws(TelemetryError) -> [UInt8]? {
        if offset == bytes.count { return nil }
        guard bytes.count - offset >= 12 else {
            throw .truncatedRecord(offset: offset, needed: 12, available: bytes.count - offset)
        }
        let lengthBytes = bytes[offset..<offset + 8]
        guard getUInt32(at: offset + 8) == CRC32C.maskedChecksum(lengthBytes) else {
            throw .lengthChecksumMismatch(offset: offset)
        }
        let length = lengthBytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard length <= UInt64(maxPayloadBytes) else {
            throw .recordTooLarge(offset: offset, length: length, limit: maxPayloadBytes)
        }
        let total = 12 + Int(length) + 4
        guard bytes.count - offset >= total else {
            throw .truncatedRecord(offset: offset, needed: total, available: bytes.count - offset)
        }
        let payload = Array(bytes[offset + 12..<offset + 12 + Int(length)])
        guard getUInt32(at: offset + 12 + Int(length)) == CRC32C.maskedChecksum(payload) else {
            throw .dataChecksumMismatch(offset: offset)
        }
        offset += total
        return payload
    }

    /// Every remaining payload, in order.
    public mutating func readAll() throws(TelemetryError) -> [[UInt8]] {
        var payloads: [[UInt8]] = []
        while let payload = try readRecord() { payloads.append(payload) }
        return payloads
    }

    private func getUInt32(at index: Int) -> UInt32 {
        bytes[index..<index + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }
}
