import MEow
import Wire

/// Decides when an actor pulls new weights (Acme's `VariableClient(updatePeriod:)`).
///
/// A pull is due every `updatePeriod` environment steps, and, under the learner's lag rule
/// (WELCOME's `weights_lag`), as soon as the learner says (in a TRANSITIONS_ACK or
/// HEARTBEAT_REPLY) that it is `maxLagVersions` ahead of the held weights, or once the held
/// weights are `maxAgeMs` old and newer ones exist. While the actor holds no trained policy
/// yet (version 0: random actions), it pulls as soon as the learner says one exists, so acting
/// with the policy starts right after the learner's first update. Requests carry
/// ONLY_IF_NEWER, so a due pull of an unchanged policy costs one small round trip.
public struct VariableClient: Sendable, Equatable {
    public let updatePeriod: Int
    /// Pull by lag and age; nil: by the period alone.
    public let lagRule: WeightsLagRule?
    private var lastPullAt: ContinuousClock.Instant?
    /// The version the actor acts with (0: none yet, random actions).
    public private(set) var heldVersion: UInt64 = 0
    /// The newest version the learner has mentioned.
    public private(set) var learnerVersion: UInt64 = 0
    private var stepsAtLastPull: Int?

    public init(updatePeriod: Int, lagRule: WeightsLagRule? = nil) {
        precondition(updatePeriod >= 1, "pull at most once per step")
        self.updatePeriod = updatePeriod
        self.lagRule = lagRule
    }

    /// Notes a version the learner reported.
    public mutating func observe(learnerVersion version: UInt64) {
        learnerVersion = max(learnerVersion, version)
    }

    /// Whether to pull now, `envSteps` steps into the run.
    public func isDue(envSteps: Int, now: ContinuousClock.Instant = .now) -> Bool {
        if heldVersion == 0 && learnerVersion > 0 { return true }
        guard let last = stepsAtLastPull else { return true }
        if envSteps - last >= updatePeriod { return true }
        guard let lagRule, learnerVersion > heldVersion else { return false }
        if lagRule.maxLagVersions > 0 && learnerVersion - heldVersion >= UInt64(lagRule.maxLagVersions) { return true }
        if lagRule.maxAgeMs > 0, let lastPullAt, now - lastPullAt >= .milliseconds(Int(lagRule.maxAgeMs)) {
            return true
        }
        return false
    }

    /// Records that a pull started.
    public mutating func didPull(envSteps: Int, now: ContinuousClock.Instant = .now) {
        stepsAtLastPull = envSteps
        lastPullAt = now
    }

    /// Forgets what the client held: a new learner run welcomed the actor, and its version
    /// numbers do not compare with the earlier run's. The next step pulls if that learner has a
    /// trained policy (`learnerVersion` > 0), at once, whatever the period.
    public mutating func reset(learnerVersion version: UInt64) {
        heldVersion = 0
        learnerVersion = version
        stepsAtLastPull = nil
        lastPullAt = nil
    }

    /// Records the version now in use.
    public mutating func didLoad(version: UInt64) {
        heldVersion = max(heldVersion, version)
        learnerVersion = max(learnerVersion, version)
    }
}

/// Why a WEIGHTS blob could not be put back together.
public enum WeightsAssemblyError: Error, Equatable, CustomStringConvertible {
    /// A chunk belongs to another version or blob, or arrived out of place.
    case inconsistentChunk(String)
    /// A tensor is not float32 or its data do not fit.
    case unsupportedTensor(String)

    public var description: String {
        switch self {
        case let .inconsistentChunk(reason): "inconsistent WEIGHTS chunk: \(reason)"
        case let .unsupportedTensor(reason): "unsupported tensor: \(reason)"
        }
    }
}

/// Reassembles the chunks of one WEIGHTS version into named tensors.
///
/// Chunk 0 announces the version, the blob size and the tensor table; the blob is
/// allocated once and every later chunk is checked against them before it is copied in.
public struct WeightsAssembler: Sendable {
    public let version: UInt64
    public let chunkCount: UInt32
    private let table: [TensorEntry]
    private var blob: [UInt8]
    /// The chunk to ask for next, nil when the blob is complete.
    public private(set) var nextChunkIndex: UInt32?

    public init(first chunk: WeightsChunk) throws(WeightsAssemblyError) {
        guard chunk.chunkIndex == 0, chunk.chunkCount > 0 else {
            throw .inconsistentChunk("the first chunk must be chunk 0 of a changed policy")
        }
        version = chunk.version
        chunkCount = chunk.chunkCount
        table = chunk.tensors
        blob = [UInt8](repeating: 0, count: Int(chunk.totalBytes))
        nextChunkIndex = 0
        try add(chunk)
    }

    /// Copies one chunk into the blob.
    public mutating func add(_ chunk: WeightsChunk) throws(WeightsAssemblyError) {
        guard chunk.version == version, chunk.chunkCount == chunkCount, Int(chunk.totalBytes) == blob.count else {
            throw .inconsistentChunk("chunk of version \(chunk.version) while assembling version \(version)")
        }
        guard chunk.chunkIndex == nextChunkIndex else {
            throw .inconsistentChunk("got chunk \(chunk.chunkIndex), expected \(nextChunkIndex.map(String.init) ?? "none")")
        }
        let start = Int(chunk.chunkOffset)
        guard start + chunk.data.count <= blob.count else {
            throw .inconsistentChunk("chunk \(chunk.chunkIndex) runs past the blob")
        }
        blob.replaceSubrange(start ..< start + chunk.data.count, with: chunk.data)
        let next = chunk.chunkIndex + 1
        nextChunkIndex = next < chunkCount ? next : nil
    }

    /// The tensors, once every chunk is in.
    public func tensors() throws(WeightsAssemblyError) -> [NamedTensor] {
        guard nextChunkIndex == nil else { throw .inconsistentChunk("chunks are still missing") }
        var result: [NamedTensor] = []
        result.reserveCapacity(table.count)
        for entry in table {
            guard entry.dtype == .float32, let bytes = entry.byteCount else {
                throw .unsupportedTensor("\(entry.name) has dtype \(entry.dtype); actors take float32")
            }
            let start = Int(entry.offset)
            guard start + Int(bytes) <= blob.count else { throw .unsupportedTensor("\(entry.name) lies outside the blob") }
            let count = Int(bytes) / 4
            var values = [Float](repeating: 0, count: count)
            values.withUnsafeMutableBytes { destination in
                blob.withUnsafeBytes { source in
                    destination.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start ..< start + Int(bytes)]))
                }
            }
            #if !_endian(little)
            values = values.map { Float(bitPattern: UInt32(littleEndian: $0.bitPattern)) }
            #endif
            result.append(NamedTensor(name: entry.name, shape: entry.shape, values: values))
        }
        return result
    }
}
