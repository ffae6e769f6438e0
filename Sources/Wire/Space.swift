/// A box of `float32` values, as Gymnasium's `Box` (PROTOCOL.md 4.1).
///
/// Bounds are finite on the wire: an unbounded dimension travels as `±Float.greatestFiniteMagnitude`.
public struct Space: Equatable, Sendable {
    /// Dimensions, each at least 1; empty for a scalar.
    public var shape: [Int]
    /// Per-element lower bounds, `shape`'s product many.
    public var low: [Float]
    /// Per-element upper bounds, `low[i] <= high[i]`.
    public var high: [Float]

    public init(shape: [Int], low: [Float], high: [Float]) {
        self.shape = shape
        self.low = low
        self.high = high
    }

    /// A box with the same bounds for every element.
    public init(shape: [Int], low: Float, high: Float) {
        let count = max(0, Check.product(shape) ?? 0)
        self.init(shape: shape, low: .init(repeating: low, count: count), high: .init(repeating: high, count: count))
    }

    /// Elements in one value of this space.
    public var elementCount: Int { low.count }

    func validate(field: String, maxElements: Int, limits: WireLimits) throws(WireError) {
        try Check.count(shape.count, limit: min(limits.maxRank, 255), field: field + ".rank")
        for (index, dimension) in shape.enumerated() where dimension < 1 || dimension > Int(UInt32.max) {
            throw .invalidValue(field: field + ".shape", index: index)
        }
        let elements = Check.product(shape) ?? .max
        try Check.count(elements, limit: maxElements, field: field + ".shape")
        try Check.shape(low.count, rows: elements, width: 1, field: field + ".low")
        try Check.shape(high.count, rows: elements, width: 1, field: field + ".high")
        try Check.finite(low, field: field + ".low")
        try Check.finite(high, field: field + ".high")
        try Self.checkOrdered(low, high, field: field + ".high")
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt8(DType.float32.rawValue)
        writer.writeUInt8(UInt8(truncatingIfNeeded: shape.count))
        for dimension in shape { writer.writeCount(dimension) }
        writer.writeFloat32ColumnLE(low)
        writer.writeFloat32ColumnLE(high)
    }

    static func read(from reader: inout WireReader, field: String, maxElements: Int, limits: WireLimits)
        throws(WireError) -> Space {
        guard try reader.readUInt8() == DType.float32.rawValue else {
            throw .invalidValue(field: field + ".dtype", index: 0)
        }
        let rank = Int(try reader.readUInt8())
        try Check.count(rank, limit: limits.maxRank, field: field + ".rank")
        var shape: [Int] = []
        shape.reserveCapacity(rank)
        var elements = 1
        for index in 0 ..< rank {
            let dimension = Int(try reader.readUInt32LE())
            if dimension < 1 { throw .invalidValue(field: field + ".shape", index: index) }
            shape.append(dimension)
            let (next, overflow) = elements.multipliedReportingOverflow(by: dimension)
            elements = overflow ? .max : next
        }
        try Check.count(elements, limit: maxElements, field: field + ".shape")
        let low = try reader.readFiniteColumn(count: elements, field + ".low")
        let high = try reader.readFiniteColumn(count: elements, field + ".high")
        try checkOrdered(low, high, field: field + ".high")
        return Space(shape: shape, low: low, high: high)
    }

    private static func checkOrdered(_ low: [Float], _ high: [Float], field: String) throws(WireError) {
        for index in low.indices where low[index] > high[index] {
            throw .invalidValue(field: field, index: index)
        }
    }
}

/// One entry of a WEIGHTS tensor table (PROTOCOL.md 4.2).
public struct TensorEntry: Equatable, Sendable {
    /// Parameter name, e.g. `policy.flow.0.weight`.
    public var name: String
    public var dtype: DType
    /// Dimensions (0 allowed).
    public var shape: [Int]
    /// Byte offset of the data in the weights blob.
    public var offset: UInt64

    public init(name: String, dtype: DType, shape: [Int], offset: UInt64) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.offset = offset
    }

    /// Bytes of data, or nil when the shape overflows.
    public var byteCount: UInt64? {
        var result = UInt64(dtype.byteSize)
        for dimension in shape {
            guard dimension >= 0 else { return nil }
            let (next, overflow) = result.multipliedReportingOverflow(by: UInt64(dimension))
            if overflow { return nil }
            result = next
        }
        return result
    }

    /// Throws unless the data lie inside a blob of `totalBytes`.
    func checkInside(totalBytes: UInt64, index: Int) throws(WireError) {
        guard let size = byteCount else {
            throw .malformed(field: "weights.tensors", reason: "tensor \(index) is too large")
        }
        let (end, overflow) = offset.addingReportingOverflow(size)
        if overflow || end > totalBytes {
            throw .malformed(field: "weights.tensors", reason: "tensor \(index) lies outside the blob")
        }
    }
}
