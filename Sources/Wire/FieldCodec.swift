// Field-level rules shared by every message: strings, counts, enums, checked columns.
// Decoding applies each rule right after reading its field (PROTOCOL.md 2.1 step 9); encoding
// applies the same rules to a message before writing it, so nothing this module sends is
// something it would refuse.

// MARK: - Checks shared by encoding and decoding

enum Check {
    /// A count or length within its limit.
    @inline(__always)
    static func count(_ value: Int, limit: Int, field: String) throws(WireError) {
        if value > limit || value < 0 { throw .lengthOverLimit(field: field, limit: limit, claimed: UInt64(clamping: value)) }
    }

    /// Every element finite.
    static func finite(_ values: [Float], field: String) throws(WireError) {
        if let index = RawBytes.firstNonFinite(values) { throw .nonFinite(field: field, index: index) }
    }

    /// Every element finite.
    static func finite(_ values: [Double], field: String) throws(WireError) {
        if let index = values.firstIndex(where: { !$0.isFinite }) { throw .nonFinite(field: field, index: index) }
    }

    /// Every element finite and in [-1, 1] (normalised actions).
    static func unitInterval(_ values: [Float], field: String) throws(WireError) {
        try finite(values, field: field)
        if let index = values.firstIndex(where: { $0 < -1 || $0 > 1 }) {
            throw .invalidValue(field: field, index: index)
        }
    }

    /// Only the known done-flag bits set.
    static func doneFlags(_ values: [UInt8], field: String) throws(WireError) {
        if let index = values.firstIndex(where: { $0 & ~DoneFlags.known != 0 }) {
            throw .invalidValue(field: field, index: index)
        }
    }

    /// `columns` holds `rows * width` elements, the shape the header fields announce.
    static func shape(_ actual: Int, rows: Int, width: Int, field: String) throws(WireError) {
        let (expected, overflow) = rows.multipliedReportingOverflow(by: width)
        if overflow || actual != expected {
            throw .malformed(field: field, reason: "holds \(actual) elements, expected \(rows) x \(width)")
        }
    }

    /// A string's UTF-8 size within the string limit.
    static func string(_ value: String, limits: WireLimits, field: String) throws(WireError) {
        try count(value.utf8.count, limit: min(limits.maxStringBytes, Int(UInt16.max)), field: field)
    }

    /// A dimension or count that must fit its `u32` field.
    static func u32(_ value: Int, field: String) throws(WireError) {
        if value < 0 || value > Int(UInt32.max) { throw .invalidValue(field: field, index: 0) }
    }

    /// The product of `values`, or nil on overflow.
    static func product(_ values: [Int]) -> Int? {
        var result = 1
        for value in values {
            let (next, overflow) = result.multipliedReportingOverflow(by: value)
            if overflow { return nil }
            result = next
        }
        return result
    }
}

// MARK: - Reading fields

extension WireReader {
    /// A `u32` count, compared with `limit` before the caller allocates anything for it.
    mutating func readCount(_ field: String, limit: Int) throws(WireError) -> Int {
        let value = Int(try readUInt32LE())
        try Check.count(value, limit: limit, field: field)
        return value
    }

    /// `.truncated` unless `rows` rows of `rowBytes` bytes each remain, without moving.
    ///
    /// A message whose columns are sized by its counts checks them as a whole right after its
    /// last count (PROTOCOL.md 2.1 step 9), so a short frame is TRUNCATED whatever its columns hold.
    func need(rows: Int, rowBytes: Int) throws(WireError) {
        try check(try byteCount(rows, size: rowBytes), at: readerIndex)
    }

    /// `rows * width`, refusing overflow as a length no frame could hold.
    func elements(_ rows: Int, _ width: Int) throws(WireError) -> Int {
        try byteCount(rows, size: width)
    }

    /// A `bool`: 0 or 1.
    mutating func readBool(_ field: String) throws(WireError) -> Bool {
        switch try readUInt8() {
        case 0: return false
        case 1: return true
        default: throw .invalidValue(field: field, index: 0)
        }
    }

    /// A registry value; unknown values are `INVALID_VALUE`.
    mutating func readEnum<E: RawRepresentable>(_ type: E.Type, _ field: String) throws(WireError) -> E
    where E.RawValue == UInt8 {
        guard let value = E(rawValue: try readUInt8()) else { throw .invalidValue(field: field, index: 0) }
        return value
    }

    /// A registry value; unknown values are `INVALID_VALUE`.
    mutating func readEnum16<E: RawRepresentable>(_ type: E.Type, _ field: String) throws(WireError) -> E
    where E.RawValue == UInt16 {
        guard let value = E(rawValue: try readUInt16LE()) else { throw .invalidValue(field: field, index: 0) }
        return value
    }

    /// A `bytes` field: `u16` length then raw bytes.
    mutating func readByteString(_ field: String, limits: WireLimits) throws(WireError) -> [UInt8] {
        let length = Int(try readUInt16LE())
        try Check.count(length, limit: limits.maxStringBytes, field: field)
        return try readBytes(count: length)
    }

    /// A `str` field: `u16` length then UTF-8.
    mutating func readString(_ field: String, limits: WireLimits) throws(WireError) -> String {
        let utf8 = try readByteString(field, limits: limits)
        guard let string = String(validating: utf8, as: UTF8.self) else {
            throw .malformed(field: field, reason: "not valid UTF-8")
        }
        return string
    }

    /// `count` finite binary32 values.
    mutating func readFiniteColumn(count: Int, _ field: String) throws(WireError) -> [Float] {
        let column = try readFloat32ColumnLE(count: count)
        try Check.finite(column, field: field)
        return column
    }

    /// `count` bytes.
    mutating func readByteColumn(count: Int) throws(WireError) -> [UInt8] {
        try readBytes(count: count)
    }
}

// MARK: - Writing fields

extension WireWriter {
    /// A `str` field; the caller validated its length.
    mutating func writeString(_ value: String) {
        let utf8 = Array(value.utf8)
        writeUInt16LE(UInt16(truncatingIfNeeded: utf8.count))
        writeBytes(utf8)
    }

    /// A `bytes` field; the caller validated its length.
    mutating func writeByteString(_ value: [UInt8]) {
        writeUInt16LE(UInt16(truncatingIfNeeded: value.count))
        writeBytes(value)
    }

    /// A `u32` count or dimension; the caller validated its range.
    mutating func writeCount(_ value: Int) {
        writeUInt32LE(UInt32(truncatingIfNeeded: value))
    }
}
