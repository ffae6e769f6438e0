/// Appends little-endian values to a frame under construction.
///
/// `write*` appends, `set*(at:)` overwrites bytes already written: length prefixes are written
/// as a placeholder, the body follows, then the length is patched in.
public struct WireWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer that will not reallocate before `capacity` bytes.
    public init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(max(0, capacity))
    }

    /// Where the next `write*` goes.
    public var writerIndex: Int { bytes.count }

    // MARK: - Scalars

    /// Appends one byte.
    public mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }

    /// Appends a little-endian `UInt16`.
    public mutating func writeUInt16LE(_ value: UInt16) { appendInteger(value) }

    /// Appends a little-endian `UInt32`.
    public mutating func writeUInt32LE(_ value: UInt32) { appendInteger(value) }

    /// Appends a little-endian `UInt64`.
    public mutating func writeUInt64LE(_ value: UInt64) { appendInteger(value) }

    /// Appends a little-endian IEEE binary32.
    public mutating func writeFloat32LE(_ value: Float) { appendInteger(value.bitPattern) }

    /// Appends a little-endian IEEE binary64.
    public mutating func writeFloat64LE(_ value: Double) { appendInteger(value.bitPattern) }

    private mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        var v = value.littleEndian
        for _ in 0 ..< MemoryLayout<T>.size {
            bytes.append(UInt8(truncatingIfNeeded: v))
            v >>= 8
        }
    }

    // MARK: - Runs of bytes and columns

    /// Appends raw bytes.
    public mutating func writeBytes(_ values: [UInt8]) { bytes.append(contentsOf: values) }

    /// Appends binary32 values, little-endian.
    public mutating func writeFloat32ColumnLE(_ values: [Float]) { RawBytes.appendColumn(values, to: &bytes) }

    /// Appends binary64 values, little-endian.
    public mutating func writeFloat64ColumnLE(_ values: [Double]) { RawBytes.appendColumn(values, to: &bytes) }

    /// Appends `UInt32` values, little-endian.
    public mutating func writeUInt32ColumnLE(_ values: [UInt32]) { RawBytes.appendColumn(values, to: &bytes) }

    /// Appends `UInt64` values, little-endian.
    public mutating func writeUInt64ColumnLE(_ values: [UInt64]) { RawBytes.appendColumn(values, to: &bytes) }

    // MARK: - Patching

    /// Overwrites the little-endian `UInt32` at `offset`, which must already be written.
    public mutating func setUInt32LE(_ value: UInt32, at offset: Int) {
        precondition(offset >= 0 && offset <= bytes.count - 4, "setUInt32LE past the written bytes")
        RawBytes.storeInteger(value, into: &bytes, at: offset)
    }
}
