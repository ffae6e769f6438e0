/// CRC-32 with zlib's polynomial (PROTOCOL.md section 2.3).
///
/// zlib's CRC rather than CRC-32C because every language's standard library has it (Python's
/// `zlib.crc32`), so clients in any language get a fast implementation for free.
public enum CRC32 {
    /// Slicing-by-16 tables: `tables[k * 256 + b]` is the CRC of byte `b` followed by `k` zeros.
    static let tables: [UInt32] = {
        var tables = [UInt32](repeating: 0, count: 16 * 256)
        for byte in 0 ..< 256 {
            var c = UInt32(byte)
            for _ in 0 ..< 8 { c = (c & 1) != 0 ? (c >> 1) ^ 0xEDB8_8320 : c >> 1 }
            tables[byte] = c
        }
        for k in 1 ..< 16 {
            for byte in 0 ..< 256 {
                let previous = tables[(k - 1) * 256 + byte]
                tables[k * 256 + byte] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC-32 of `bytes[range]`, continuing from `crc` (0 to start).
    ///
    /// `range` must lie within `bytes`; out-of-range requests are clamped rather than trapping.
    public static func checksum(_ bytes: [UInt8], range: Range<Int>? = nil, continuing crc: UInt32 = 0) -> UInt32 {
        let wanted = range ?? 0 ..< bytes.count
        let clamped = wanted.clamped(to: 0 ..< bytes.count)
        return RawBytes.crc32(crc, bytes, clamped, tables: tables)
    }
}
