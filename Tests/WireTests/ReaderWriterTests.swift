import Testing
@testable import Wire

@Suite struct ReaderWriterTests {
    // MARK: - Reader verbs

    @Test func readsConsumeAndGetsPeek() throws {
        var reader = WireReader([0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09])
        #expect(try reader.getUInt32LE(at: 1) == 0x0504_0302)
        #expect(reader.readerIndex == 0)
        #expect(try reader.readUInt8() == 0x01)
        #expect(try reader.readUInt16LE() == 0x0302)
        #expect(try reader.readUInt32LE() == 0x0706_0504)
        #expect(reader.readerIndex == 7)
        #expect(reader.readableBytes == 2)
    }

    @Test func aShortReadThrowsTruncatedAndMovesNothing() {
        var reader = WireReader([0xAA, 0xBB, 0xCC])
        _ = try? reader.readUInt8()
        #expect(wireError { () throws(WireError) in try reader.readUInt32LE() } == .truncated(needed: 4, available: 2))
        #expect(reader.readerIndex == 1)
        #expect(wireError { () throws(WireError) in try reader.readFloat32ColumnLE(count: 1) }
            == .truncated(needed: 4, available: 2))
        #expect(reader.readerIndex == 1)
        #expect(wireError { () throws(WireError) in try reader.getUInt16LE(at: 2) } == .truncated(needed: 2, available: 1))
        #expect(wireError { () throws(WireError) in try reader.getUInt8(at: -1) }?.code == .truncated)
    }

    @Test func aColumnWhoseByteSizeOverflowsIsTruncatedNotATrap() {
        var reader = WireReader([0, 0, 0, 0])
        #expect(wireError { () throws(WireError) in try reader.readUInt64ColumnLE(count: .max / 2) }?.code == .truncated)
        #expect(wireError { () throws(WireError) in try reader.readBytes(count: -1) }?.code == .truncated)
        #expect(reader.readerIndex == 0)
    }

    @Test func aRangedReaderStopsAtItsEnd() throws {
        var reader = WireReader([1, 2, 3, 4, 5, 6], range: 2 ..< 4)
        #expect(try reader.readUInt16LE() == 0x0403)
        #expect(wireError { () throws(WireError) in try reader.readUInt8() } == .truncated(needed: 1, available: 0))
    }

    // MARK: - Writer verbs

    @Test func writesAppendLittleEndianAndSetsPatch() {
        var writer = WireWriter()
        writer.writeUInt16LE(0x0102)
        writer.writeUInt32LE(0)
        writer.writeUInt64LE(0x0807_0605_0403_0201)
        writer.writeFloat32LE(1.0)
        writer.setUInt32LE(0xDEAD_BEEF, at: 2)
        #expect(writer.bytes == [0x02, 0x01, 0xEF, 0xBE, 0xAD, 0xDE, 1, 2, 3, 4, 5, 6, 7, 8, 0x00, 0x00, 0x80, 0x3F])
    }

    @Test func columnsRoundTrip() throws {
        var rng = SeededGenerator(seed: 11)
        let floats = rng.floats(37)
        let doubles = (0 ..< 5).map { _ in Double.random(in: -1e9 ... 1e9, using: &rng) }
        let words = (0 ..< 9).map { _ in rng.word(UInt64.self) }
        var writer = WireWriter()
        writer.writeFloat32ColumnLE(floats)
        writer.writeFloat64ColumnLE(doubles)
        writer.writeUInt64ColumnLE(words)
        var reader = WireReader(writer.bytes)
        #expect(try reader.readFloat32ColumnLE(count: 37) == floats)
        #expect(try reader.readFloat64ColumnLE(count: 5) == doubles)
        #expect(try reader.readUInt64ColumnLE(count: 9) == words)
        #expect(reader.readableBytes == 0)
    }

    // MARK: - Checksum and finiteness scan

    @Test func crc32MatchesTheStandardCheckValue() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        // Continuing over two halves equals one pass, for every split of a long input.
        var rng = SeededGenerator(seed: 12)
        let data = rng.bytes(100)
        let whole = CRC32.checksum(data)
        for split in 0 ... 100 {
            let head = CRC32.checksum(data, range: 0 ..< split)
            #expect(CRC32.checksum(data, range: split ..< 100, continuing: head) == whole)
        }
    }

    @Test func firstNonFiniteFindsTheFirstBadLane() {
        for position in [0, 5, 15, 16, 17, 40, 63] {
            for bad: Float in [.nan, .infinity, -.infinity, .signalingNaN] {
                var values = [Float](repeating: 1, count: 64)
                values[position] = bad
                values[63] = position == 63 ? bad : .nan
                #expect(RawBytes.firstNonFinite(values) == position)
            }
        }
        #expect(RawBytes.firstNonFinite([1, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0]) == nil)
    }
}
