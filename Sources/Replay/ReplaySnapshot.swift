/// Where a replay snapshot's rows are and how the ring continues after them.
///
/// A snapshot is this header plus `chunkCount` chunks. Chunk `i` holds ring slots
/// `rows(ofChunk: i)`, each column in turn (observations, actions, rewards,
/// terminations, next observations) as little-endian float32, so a restored buffer has
/// every transition in the same slot: the same sampling draws give the same batches.
/// Chunks are produced and consumed one at a time, so a snapshot of a large buffer never
/// holds a second copy of it in memory.
public struct ReplaySnapshotHeader: Sendable, Equatable, Codable {
    public var capacity: Int
    public var observationDimension: Int
    public var actionDimension: Int
    /// Filled slots, `0 ..< count`.
    public var count: Int
    /// Transitions inserted since creation.
    public var insertCount: Int
    /// The slot the next insert writes.
    public var nextSlot: Int
    /// Rows per chunk; the last chunk may be shorter.
    public var rowsPerChunk: Int

    /// Floats per stored transition.
    public var floatsPerRow: Int { 2 * observationDimension + actionDimension + 2 }

    /// Bytes per stored transition in a chunk.
    public var bytesPerRow: Int { floatsPerRow * MemoryLayout<Float>.size }

    /// Chunks in the snapshot (0 for an empty buffer).
    public var chunkCount: Int { count == 0 ? 0 : (count + rowsPerChunk - 1) / rowsPerChunk }

    /// The ring slots chunk `index` holds.
    public func rows(ofChunk index: Int) -> Range<Int> {
        let start = index * rowsPerChunk
        return start..<min(count, start + rowsPerChunk)
    }

    /// The exact byte size of chunk `index`.
    public func bytes(ofChunk index: Int) -> Int { rows(ofChunk: index).count * bytesPerRow }

    /// Checks that the header describes a buffer that could exist.
    public func validate() throws(ReplayError) {
        func need(_ ok: Bool, _ reason: String) throws(ReplayError) {
            if !ok { throw .invalidSnapshot(reason) }
        }
        try need(capacity >= 1, "capacity \(capacity) is below 1")
        try need(observationDimension >= 1 && actionDimension >= 1, "dimensions must be at least 1")
        try need(count >= 0 && count <= capacity, "count \(count) outside 0...\(capacity)")
        try need(nextSlot >= 0 && nextSlot < capacity, "next slot \(nextSlot) outside 0..<\(capacity)")
        try need(count == capacity || nextSlot == count, "a buffer that is not full writes slot count next")
        try need(insertCount >= count, "insert count \(insertCount) below count \(count)")
        try need(rowsPerChunk >= 1, "rows per chunk \(rowsPerChunk) is below 1")
    }
}

extension ReplayBuffer {
    /// The header of a snapshot of this buffer with chunks of at most `maxChunkBytes` bytes.
    public func snapshotHeader(maxChunkBytes: Int = 64 << 20) -> ReplaySnapshotHeader {
        var header = ReplaySnapshotHeader(
            capacity: capacity, observationDimension: observationDimension, actionDimension: actionDimension,
            count: count, insertCount: insertCount, nextSlot: nextSlot, rowsPerChunk: 1)
        header.rowsPerChunk = max(1, maxChunkBytes / header.bytesPerRow)
        return header
    }

    /// The bytes of chunk `index` of the snapshot `header` describes (from `snapshotHeader`).
    public func snapshotChunk(_ index: Int, of header: ReplaySnapshotHeader) -> [UInt8] {
        precondition(
            header.count == count && header.nextSlot == nextSlot && header.capacity == capacity,
            "the header does not describe this buffer")
        let rows = header.rows(ofChunk: index)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(rows.count * header.bytesPerRow)
        for (column, width) in columns {
            storage[keyPath: column][rows.lowerBound * width..<rows.upperBound * width].withUnsafeBytes {
                bytes.append(contentsOf: $0)
            }
        }
        return bytes
    }

    /// A buffer rebuilt from a snapshot, reading chunk `i` with `chunk(i)`.
    ///
    /// Every chunk's length is checked before it is copied; the counters are set only
    /// once all chunks are in.
    public init(
        restoring header: ReplaySnapshotHeader, availableMemory: Int? = MemoryInfo.availableBytes(),
        chunk: (Int) throws -> [UInt8]
    ) throws {
        try header.validate()
        self = try ReplayBuffer(
            capacity: header.capacity, observationDimension: header.observationDimension,
            actionDimension: header.actionDimension, availableMemory: availableMemory)
        for index in 0..<header.chunkCount {
            let bytes = try chunk(index)
            let rows = header.rows(ofChunk: index)
            guard bytes.count == header.bytes(ofChunk: index) else {
                throw ReplayError.invalidSnapshot(
                    "chunk \(index) has \(bytes.count) bytes, expected \(header.bytes(ofChunk: index))")
            }
            var offset = 0
            for (column, width) in columns {
                let n = rows.count * width * MemoryLayout<Float>.size
                bytes.withUnsafeBytes { source in
                    storage[keyPath: column][rows.lowerBound * width..<rows.upperBound * width]
                        .withUnsafeMutableBytes { destination in
                            destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + n]))
                        }
                }
                offset += n
            }
        }
        count = header.count
        insertCount = header.insertCount
        nextSlot = header.nextSlot
    }
}
