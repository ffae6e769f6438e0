#if !_endian(little)
// The column copies below are plain memory copies of little-endian data. Every platform meow
// targets is little-endian; a big-endian port would byte-swap here and nowhere else.
#error("The Wire codec assumes a little-endian host.")
#endif

/// The only place in `Wire` that touches raw memory.
///
/// Callers check every bound before calling (the reader and writer do); these helpers then copy
/// without per-element checks, which is what makes a 256-transition batch a handful of memcpys.
/// Debug builds re-check the bounds with `assert`.
enum RawBytes {
    /// Loads a little-endian integer at `offset`; `offset + size` must be within `bytes`.
    @inline(__always)
    static func loadInteger<T: FixedWidthInteger>(_ bytes: [UInt8], at offset: Int, as: T.Type) -> T {
        assert(offset >= 0 && offset <= bytes.count - MemoryLayout<T>.size)
        let raw = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
        return T(littleEndian: raw)
    }

    /// Stores `value` little-endian at `offset`; `offset + size` must be within `bytes`.
    @inline(__always)
    static func storeInteger<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        assert(offset >= 0 && offset <= bytes.count - MemoryLayout<T>.size)
        bytes.withUnsafeMutableBytes { $0.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self) }
    }

    /// Copies `count` elements of `T` stored little-endian from `offset` into a new array.
    static func copyColumn<T: BitwiseCopyable>(_ bytes: [UInt8], from offset: Int, count: Int, as: T.Type) -> [T] {
        let byteCount = count * MemoryLayout<T>.stride
        assert(offset >= 0 && count >= 0 && offset <= bytes.count - byteCount)
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(buffer).copyMemory(
                    from: UnsafeRawBufferPointer(rebasing: source[offset ..< offset + byteCount]))
            }
            initialized = count
        }
    }

    /// Appends `values` as little-endian bytes.
    static func appendColumn<T: BitwiseCopyable>(_ values: [T], to bytes: inout [UInt8]) {
        values.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }

    /// The first index of a non-finite element, or nil. One branch-free pass per 16 lanes so
    /// validation stays cheap next to the copy.
    static func firstNonFinite(_ values: [Float]) -> Int? {
        values.withUnsafeBufferPointer { buffer -> Int? in
            let exponentMask: UInt32 = 0x7F80_0000
            var start = 0
            while start + 16 <= buffer.count {
                var any: UInt32 = 0
                for lane in start ..< start + 16 {
                    // An all-ones exponent is NaN or infinity.
                    any |= (buffer[lane].bitPattern & exponentMask) == exponentMask ? 1 : 0
                }
                if any != 0 { break }
                start += 16
            }
            for index in start ..< buffer.count where !buffer[index].isFinite { return index }
            return nil
        }
    }

    /// Continues a CRC-32 (zlib polynomial) over `bytes[range]`, slicing by 16 bytes at a time
    /// (`tables[k * 256 + b]` is the CRC contribution of byte `b` followed by `k` zero bytes).
    static func crc32(_ crc: UInt32, _ bytes: [UInt8], _ range: Range<Int>, tables: [UInt32]) -> UInt32 {
        assert(range.lowerBound >= 0 && range.upperBound <= bytes.count && tables.count == 16 * 256)
        return bytes.withUnsafeBufferPointer { data in
            tables.withUnsafeBufferPointer { t in
                var c = ~crc
                var i = range.lowerBound
                while range.upperBound - i >= 16 {
                    let w0 = c ^ word(data, i)
                    let w1 = word(data, i + 4), w2 = word(data, i + 8), w3 = word(data, i + 12)
                    c = t[15 * 256 + Int(w0 & 0xFF)] ^ t[14 * 256 + Int((w0 >> 8) & 0xFF)]
                        ^ t[13 * 256 + Int((w0 >> 16) & 0xFF)] ^ t[12 * 256 + Int(w0 >> 24)]
                        ^ t[11 * 256 + Int(w1 & 0xFF)] ^ t[10 * 256 + Int((w1 >> 8) & 0xFF)]
                        ^ t[9 * 256 + Int((w1 >> 16) & 0xFF)] ^ t[8 * 256 + Int(w1 >> 24)]
                        ^ t[7 * 256 + Int(w2 & 0xFF)] ^ t[6 * 256 + Int((w2 >> 8) & 0xFF)]
                        ^ t[5 * 256 + Int((w2 >> 16) & 0xFF)] ^ t[4 * 256 + Int(w2 >> 24)]
                        ^ t[3 * 256 + Int(w3 & 0xFF)] ^ t[2 * 256 + Int((w3 >> 8) & 0xFF)]
                        ^ t[1 * 256 + Int((w3 >> 16) & 0xFF)] ^ t[Int(w3 >> 24)]
                    i += 16
                }
                while i < range.upperBound {
                    c = t[Int((c ^ UInt32(data[i])) & 0xFF)] ^ (c >> 8)
                    i += 1
                }
                return ~c
            }
        }
    }

    /// The little-endian word at `i`; the caller checked `i + 4` is in bounds.
    @inline(__always)
    private static func word(_ data: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24
    }
}
