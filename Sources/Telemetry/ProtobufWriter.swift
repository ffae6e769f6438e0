/// Encodes the few protobuf messages an event file needs, by hand.
///
/// TensorBoard's `Event`, `Summary`, `SummaryMetadata` and `TensorProto` use
/// four wire types (varint, 64-bit, length-delimited, 32-bit); writing them
/// directly keeps a protobuf runtime and its code generator out of the build.
/// Fields are written in field-number order, as protobuf serialisers do, so the
/// bytes match a reference encoder's.
struct ProtobufWriter {
    /// The wire types this writer emits (values are the protobuf encoding's).
    enum WireType: UInt8 {
        case varint = 0
        case fixed64 = 1
        case lengthDelimited = 2
        case fixed32 = 5
    }

    private(set) var bytes: [UInt8] = []

    mutating func writeVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func writeKey(field: Int, _ wireType: WireType) {
        writeVarint(UInt64(field) << 3 | UInt64(wireType.rawValue))
    }

    /// An `int64` or enum field; negative values take ten bytes, as in protobuf.
    mutating func writeInt64(field: Int, _ value: Int64) {
        writeKey(field: field, .varint)
        writeVarint(UInt64(bitPattern: value))
    }

    mutating func writeDouble(field: Int, _ value: Double) {
        writeKey(field: field, .fixed64)
        writeUInt64LittleEndian(value.bitPattern)
    }

    mutating func writeFloat(field: Int, _ value: Float) {
        writeKey(field: field, .fixed32)
        let bits = value.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
    }

    mutating func writeBytes(field: Int, _ value: some Collection<UInt8>) {
        writeKey(field: field, .lengthDelimited)
        writeVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func writeString(field: Int, _ value: String) {
        writeBytes(field: field, value.utf8)
    }

    /// A nested message: encoded on its own, then written length-delimited.
    mutating func writeMessage(field: Int, _ body: (inout ProtobufWriter) -> Void) {
        var nested = ProtobufWriter()
        body(&nested)
        writeBytes(field: field, nested.bytes)
    }

    private mutating func writeUInt64LittleEndian(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}
