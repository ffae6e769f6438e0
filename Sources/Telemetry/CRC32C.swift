/// CRC-32C (Castagnoli), the checksum of TFRecord framing.
///
/// TensorBoard's event files frame every record with masked CRC-32C values of
/// the length and of the payload, so a reader can tell a torn write (a
/// training run killed mid-flush) from data. Slice-by-8 tables process eight
/// bytes per step; event records are small and written off the training
/// thread, so this is about not wasting the writer's time, not a hot path.
public enum CRC32C {
    /// The reflected Castagnoli polynomial 0x1EDC6F41.
    static let polynomial: UInt32 = 0x82F6_3B78

    /// The constant TFRecord adds after rotating a CRC (`kMaskDelta`).
    static let maskDelta: UInt32 = 0xA282_EAD8

    /// Eight 256-entry tables: `tables[k][b]` is the CRC of byte `b` followed by `k` zero bytes.
    static let tables: [[UInt32]] = {
        var tables = [[UInt32]](repeating: [UInt32](repeating: 0, count: 256), count: 8)
        for byte in 0..<256 {
            var crc = UInt32(byte)
            for _ in 0..<8 { crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1 }
            tables[0][byte] = crc
        }
        for byte in 0..<256 {
            for k in 1..<8 {
                let previous = tables[k - 1][byte]
                tables[k][byte] = (previous >> 8) ^ tables[0][Int(previous & 0xFF)]
            }
        }
        return tables
    }()

    /// The CRC-32C of `bytes`.
    public static func checksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        let result = bytes.withContiguousStorageIfAvailable { update(0, $0) }
        return result ?? Array(bytes).withUnsafeBufferPointer { update(0, $0) }
    }

    /// The checksum TFRecord stores: the CRC rotated right by 15 bits plus a constant.
    ///
    /// NOTE: masking keeps a CRC of data that itself contains CRCs from being
    /// trivially related to them (TFRecord's reason; we only need to match it).
    public static func masked(_ crc: UInt32) -> UInt32 {
        ((crc >> 15) | (crc << 17)) &+ maskDelta
    }

    /// The masked CRC-32C of `bytes`, as stored after a TFRecord length or payload.
    public static func maskedChecksum(_ bytes: some Collection<UInt8>) -> UInt32 {
        masked(checksum(bytes))
    }

    /// Continues a CRC over `buffer` (pass 0 to start).
    static func update(_ crc: UInt32, _ buffer: UnsafeBufferPointer<UInt8>) -> UInt32 {
        var state = ~crc
        var index = 0
        let count = buffer.count
        tables.withUnsafeBufferPointer { t in
            let (t0, t1, t2, t3) = (t[0], t[1], t[2], t[3])
            let (t4, t5, t6, t7) = (t[4], t[5], t[6], t[7])
            while count - index >= 8 {
                let low = state ^ (UInt32(buffer[index]) | UInt32(buffer[index + 1]) << 8
                    | UInt32(buffer[index + 2]) << 16 | UInt32(buffer[index + 3]) << 24)
                state = t7[Int(low & 0xFF)] ^ t6[Int((low >> 8) & 0xFF)]
                    ^ t5[Int((low >> 16) & 0xFF)] ^ t4[Int(low >> 24)]
                    ^ t3[Int(buffer[index + 4])] ^ t2[Int(buffer[index + 5])]
                    ^ t1[Int(buffer[index + 6])] ^ t0[Int(buffer[index + 7])]
                index += 8
            }
            while index < count {
                state = (state >> 8) ^ t0[Int((state ^ UInt32(buffer[index])) & 0xFF)]
                index += 1
            }
        }
        return ~state
    }
}
