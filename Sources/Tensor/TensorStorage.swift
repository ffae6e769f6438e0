/// The one place where tensor memory is allocated, addressed and freed.
///
/// Everything that touches raw memory goes through this type (the pattern of
/// swift-collections' `_UnsafeHandle`): allocation is 64-byte aligned so SIMD
/// loads never straddle cache lines, and every accessor asserts its bounds in
/// debug builds. Kernels receive `UnsafeMutableBufferPointer`s from here, whose
/// subscripts are bounds-checked in debug builds as well.
///
/// It is `@unchecked Sendable` because tensors are handed between threads (a
/// learner publishing weights); concurrent writers must synchronise themselves,
/// as with any shared buffer.
public final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
    /// Number of scalars the allocation holds.
    public let capacity: Int
    @usableFromInline let base: UnsafeMutablePointer<Scalar>

    /// Allocates `capacity` scalars, zero-filled.
    public init(capacity: Int) {
        precondition(capacity >= 0, "negative capacity")
        self.capacity = capacity
        let bytes = Swift.max(capacity, 1) * MemoryLayout<Scalar>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        base = raw.bindMemory(to: Scalar.self, capacity: Swift.max(capacity, 1))
    }

    deinit {
        UnsafeMutableRawPointer(base).deallocate()
    }

    /// Reads one scalar.
    @inlinable
    public subscript(index: Int) -> Scalar {
        get {
            assert(index >= 0 && index < capacity, "storage index \(index) out of 0..<\(capacity)")
            return base[index]
        }
        set {
            assert(index >= 0 && index < capacity, "storage index \(index) out of 0..<\(capacity)")
            base[index] = newValue
        }
    }

    /// A buffer over `count` scalars starting at `offset`.
    ///
    /// The buffer is valid while this storage is alive; callers keep the owning
    /// tensor alive for the duration of a kernel call.
    @inlinable
    public func buffer(offset: Int, count: Int) -> UnsafeMutableBufferPointer<Scalar> {
        assert(offset >= 0 && count >= 0 && offset + count <= capacity,
               "storage range \(offset)..<\(offset + count) out of 0..<\(capacity)")
        return UnsafeMutableBufferPointer(start: base + offset, count: count)
    }

    /// Sets `count` scalars at `offset` to zero.
    ///
    /// Raw byte operations: generic element-wise `update` is not specialised
    /// across modules and costs a witness call per element.
    public func zero(offset: Int, count: Int) {
        UnsafeMutableRawBufferPointer(buffer(offset: offset, count: count)).initializeMemory(as: UInt8.self, repeating: 0)
    }

    /// Copies `count` scalars from another storage (a raw memmove).
    public func copy(from source: TensorStorage<Scalar>, sourceOffset: Int, offset: Int, count: Int) {
        let src = UnsafeRawBufferPointer(source.buffer(offset: sourceOffset, count: count))
        UnsafeMutableRawBufferPointer(buffer(offset: offset, count: count)).copyMemory(from: src)
    }

    /// Copies raw bytes (little-endian scalars) into the storage.
    public func copyBytes(from bytes: UnsafeRawBufferPointer, offset: Int) {
        let count = bytes.count / MemoryLayout<Scalar>.stride
        let dst = UnsafeMutableRawBufferPointer(buffer(offset: offset, count: count))
        dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[0..<count * MemoryLayout<Scalar>.stride]))
    }

    /// Appends the bytes of `count` scalars at `offset` to `data`.
    public func appendBytes(offset: Int, count: Int, to data: inout [UInt8]) {
        let src = UnsafeRawBufferPointer(buffer(offset: offset, count: count))
        data.append(contentsOf: src)
    }
}
