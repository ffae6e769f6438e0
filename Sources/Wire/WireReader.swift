/// Reads little-endian values from a received frame.
///
/// The verb grid follows swift-nio's ByteBuffer: `read*` consumes, `get*(at:)` peeks at an
/// absolute offset without moving. A short read throws `.truncated` and moves nothing, so a
/// failed decode leaves the reader where the bad field starts. Reads never pass `endIndex`
/// (the end of the payload), whatever the underlying array holds.
public struct WireReader: Sendable {
    /// The whole received buffer.
    public let bytes: [UInt8]
    /// The next byte `read*` consumes.
    public private(set) var readerIndex: Int
    /// One past the last byte this reader may consume.
    public let endIndex: Int

    /// A reader over all of `bytes`.
    public init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.readerIndex = 0
        self.endIndex = bytes.count
    }

    /// A reader over `bytes[range]` (clamped to the array).
    public init(_ bytes: [UInt8], range: Range<Int>) {
        let clamped = range.clamped(to: 0 ..< bytes.count)
        self.bytes = bytes
        self.readerIndex = clamped.lowerBound
        self.endIndex = clamped.upperBound
    }

    /// Bytes left to read.
    public var readableBytes: Int { endIndex - readerIndex }

    // MARK: - Bounds

    /// Throws `.truncated` unless `count` bytes are readable at `offset`.
    @inline(__always)
    func check(_ count: Int, at offset: Int) throws(WireError) {
        guard offset >= 0, offset <= endIndex, count >= 0, count <= endIndex - offset
        else {
            throw .truncated(needed: count, available: max(0, endIndex - max(offset, 0)))
        }
    }

    /// The byte size of `count` elements of `size` bytes, or `.truncated` when it overflows
    /// (no buffer could hold it).
    @inline(__always)
    func byteCount(_ count: Int, size: Int) throws(WireError) -> Int {
        let (bytes, overflow) = count.multipliedReportingOverflow(by: size)
        guard !overflow, count >= 0 else { throw .truncated(needed: .max, available: readableBytes) }
        return bytes
    }

    // MARK: - Peek

    /// The byte at `offset`, without moving.
    public func getUInt8(at offset: Int) throws(WireError) -> UInt8 {
        try check(1, at: offset)
        return bytes[offset]
    }

    /// The little-endian `UInt16` at `offset`, without moving.
    public func getUInt16LE(at offset: Int) throws(WireError) -> UInt16 {
        try check(2, at: offset)
        return RawBytes.loadInteger(bytes, at: offset, as: UInt16.self)
    }

    /// The little-endian `UInt32` at `offset`, without moving.
    public func getUInt32LE(at offset: Int) throws(WireError) -> UInt32 {
        try check(4, at: offset)
        return RawBytes.loadInteger(bytes, at: offset, as: UInt32.self)
    }

    /// The little-endian `UInt64` at `offset`, without moving.
    public func getUInt64LE(at offset: Int) throws(WireError) -> UInt64 {
        try check(8, at: offset)
        return RawBytes.loadInteger(bytes, at: offset, as: UInt64.self)
    }

    // MARK: - Scalars

    /// Consumes one byte.
    public mutating func readUInt8() throws(WireError) -> UInt8 {
        let value = try getUInt8(at: readerIndex)
        readerIndex += 1
        return value
    }

    /// Consumes a little-endian `UInt16`.
    public mutating func readUInt16LE() throws(WireError) -> UInt16 {
        let value = try getUInt16LE(at: readerIndex)
        readerIndex += 2
        return value
    }

    /// Consumes a little-endian `UInt32`.
    public mutating func readUInt32LE() throws(WireError) -> UInt32 {
        let value = try getUInt32LE(at: readerIndex)
        readerIndex += 4
        return value
    }

    /// Consumes a little-endian `UInt64`.
    public mutating func readUInt64LE() throws(WireError) -> UInt64 {
        let value = try getUInt64LE(at: readerIndex)
        readerIndex += 8
        return value
    }

    /// Consumes a little-endian IEEE binary32.
    public mutating func readFloat32LE() throws(WireError) -> Float {
        Float(bitPattern: try readUInt32LE())
    }

    /// Consumes a little-endian IEEE binary64.
    public mutating func readFloat64LE() throws(WireError) -> Double {
        Double(bitPattern: try readUInt64LE())
    }

    // MARK: - Runs of bytes and columns

    /// Consumes `count` raw bytes.
    public mutating func readBytes(count: Int) throws(WireError) -> [UInt8] {
        try check(count, at: readerIndex)
        let value = Array(bytes[readerIndex ..< readerIndex + count])
        readerIndex += count
        return value
    }

    /// Skips `count` bytes.
    public mutating func skipBytes(_ count: Int) throws(WireError) {
        try check(count, at: readerIndex)
        readerIndex += count
    }

    /// Consumes `count` little-endian binary32 values.
    public mutating func readFloat32ColumnLE(count: Int) throws(WireError) -> [Float] {
        try readColumn(count: count, as: Float.self)
    }

    /// Consumes `count` little-endian binary64 values.
    public mutating func readFloat64ColumnLE(count: Int) throws(WireError) -> [Double] {
        try readColumn(count: count, as: Double.self)
    }

    /// Consumes `count` little-endian `UInt32` values.
    public mutating func readUInt32ColumnLE(count: Int) throws(WireError) -> [UInt32] {
        try readColumn(count: count, as: UInt32.self)
    }

    /// Consumes `count` little-endian `UInt64` values.
    public mutating func readUInt64ColumnLE(count: Int) throws(WireError) -> [UInt64] {
        try readColumn(count: count, as: UInt64.self)
    }

    /// Checks the byte size (overflow, then bounds) before the array is allocated.
    private mutating func readColumn<T: BitwiseCopyable>(count: Int, as type: T.Type) throws(WireError) -> [T] {
        let size = try byteCount(count, size: MemoryLayout<T>.stride)
        try check(size, at: readerIndex)
        let column = RawBytes.copyColumn(bytes, from: readerIndex, count: count, as: type)
        readerIndex += size
        return column
    }
}
