/// A 2-D row-major matrix [rows, cols] viewing a range of shared storage.
///
/// MEow only needs batch x features, so every tensor is 2-D; a vector is
/// [1, n] (row) or [n, 1] (column) and a scalar is [1, 1]. A tensor is a
/// *view*: copying the struct shares the storage (like a PyTorch tensor), which
/// is what lets parameter tensors live inside one flat parameter buffer. Use
/// `copy()` for an independent tensor.
public struct Tensor<Scalar: TensorScalar>: @unchecked Sendable {  // A view of TensorStorage; its reason is given there.
    public let storage: TensorStorage<Scalar>
    /// Index of element [0, 0] in `storage`.
    public let offset: Int
    public let rows: Int
    public let cols: Int

    /// Number of elements.
    @inlinable public var count: Int { rows &* cols }
    /// [rows, cols].
    @inlinable public var shape: [Int] { [rows, cols] }

    /// A zero-filled tensor with its own storage.
    public init(zeros rows: Int, _ cols: Int) {
        precondition(rows >= 0 && cols >= 0, "negative shape")
        self.storage = TensorStorage(capacity: rows * cols)
        self.offset = 0
        self.rows = rows
        self.cols = cols
    }

    /// A view of `rows * cols` scalars of `storage` starting at `offset`.
    public init(storage: TensorStorage<Scalar>, offset: Int, rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0 && offset >= 0 && offset + rows * cols <= storage.capacity,
                     "view [\(rows), \(cols)] at \(offset) exceeds storage of \(storage.capacity)")
        self.storage = storage
        self.offset = offset
        self.rows = rows
        self.cols = cols
    }

    /// A tensor filled with `value`.
    public init(repeating value: Scalar, rows: Int, cols: Int) {
        self.init(zeros: rows, cols)
        if value != 0 { fill(value) }
    }

    /// A tensor from row-major scalars.
    public init(rows: Int, cols: Int, _ values: [Scalar]) {
        precondition(values.count == rows * cols, "\(values.count) values for shape [\(rows), \(cols)]")
        self.init(zeros: rows, cols)
        let dst = buffer
        for i in 0..<values.count { dst[i] = values[i] }
    }

    /// A tensor from an array of rows.
    public init(_ rowsOfValues: [[Scalar]]) {
        let cols = rowsOfValues.first?.count ?? 0
        precondition(rowsOfValues.allSatisfy { $0.count == cols }, "ragged rows")
        self.init(rows: rowsOfValues.count, cols: cols, rowsOfValues.flatMap { $0 })
    }

    /// The buffer kernels read and write; valid while this tensor is alive.
    @inlinable
    public var buffer: UnsafeMutableBufferPointer<Scalar> { storage.buffer(offset: offset, count: rows &* cols) }

    /// Element [row, col].
    @inlinable
    public subscript(row: Int, col: Int) -> Scalar {
        get {
            assert(row >= 0 && row < rows && col >= 0 && col < cols, "index [\(row), \(col)] outside [\(rows), \(cols)]")
            return storage[offset &+ row &* cols &+ col]
        }
        nonmutating set {
            assert(row >= 0 && row < rows && col >= 0 && col < cols, "index [\(row), \(col)] outside [\(rows), \(cols)]")
            storage[offset &+ row &* cols &+ col] = newValue
        }
    }

    /// Element `i` in row-major order.
    @inlinable
    public subscript(flat i: Int) -> Scalar {
        get {
            assert(i >= 0 && i < count, "flat index \(i) outside \(count)")
            return storage[offset &+ i]
        }
        nonmutating set {
            assert(i >= 0 && i < count, "flat index \(i) outside \(count)")
            storage[offset &+ i] = newValue
        }
    }

    /// The elements in row-major order.
    public var scalars: [Scalar] { Array(buffer) }

    /// The same elements viewed with another shape of equal count.
    public func reshaped(_ rows: Int, _ cols: Int) -> Tensor {
        precondition(rows * cols == count, "cannot reshape [\(self.rows), \(self.cols)] to [\(rows), \(cols)]")
        return Tensor(storage: storage, offset: offset, rows: rows, cols: cols)
    }

    /// A view of rows `range` (contiguous in row-major order).
    public func rows(_ range: Range<Int>) -> Tensor {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows, "row range \(range) outside \(rows)")
        return Tensor(storage: storage, offset: offset + range.lowerBound * cols, rows: range.count, cols: cols)
    }

    /// An independent copy.
    public func copy() -> Tensor {
        let result = Tensor(zeros: rows, cols)
        result.assign(self)
        return result
    }

    /// Sets every element to `value`.
    public func fill(_ value: Scalar) {
        if value == 0 { storage.zero(offset: offset, count: count) } else { Kernels.fill(self, with: value) }
    }

    /// Copies `other`'s elements (same count) into this tensor.
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "assigning \(other.shape) to \(shape)")
        storage.copy(from: other.storage, sourceOffset: other.offset, offset: offset, count: count)
    }

    /// True when both shapes are equal.
    @inlinable public func hasShape(_ rows: Int, _ cols: Int) -> Bool { self.rows == rows && self.cols == cols }

    /// The same values converted to another scalar type.
    public func converted<Other: TensorScalar>(to: Other.Type = Other.self) -> Tensor<Other> {
        let result = Tensor<Other>(zeros: rows, cols)
        let src = buffer, dst = result.buffer
        for i in 0..<count { dst[i] = Other(src[i]) }
        return result
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let shown = (0..<Swift.min(rows, 6)).map { r in
            "[" + (0..<Swift.min(cols, 8)).map { c in "\(self[r, c])" }.joined(separator: ", ")
                + (cols > 8 ? ", ..." : "") + "]"
        }
        return "Tensor[\(rows), \(cols)](" + shown.joined(separator: ", ") + (rows > 6 ? ", ..." : "") + ")"
    }
}
