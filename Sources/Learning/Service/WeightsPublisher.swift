import Logging
import MEow
import Synchronization
import Telemetry
import Wire

/// Serves WEIGHTS chunks for the newest published policy snapshot.
///
/// The training thread owns the agent, so it alone copies the weights
/// (`publish`, a memcpy between two updates). Turning the copy into a blob and
/// chunks happens here, on the first request for that version, on a handler
/// thread: serialising never stalls training longer than the copy. Chunks are kept
/// per version (the newest two, so a peer in the middle of a multi-chunk fetch can
/// finish). Frames themselves are encoded per request because the request id sits
/// inside the checksummed header.
public final class WeightsPublisher: Sendable {
    /// One version's blob, cut into WEIGHTS payloads.
    struct Encoded: Sendable {
        let version: UInt64
        let chunks: [WeightsChunk]
    }

    private struct State {
        var snapshotVersion: UInt64?
        var snapshot: [NamedTensor] = []
        var encoded: [Encoded] = []
    }

    private let chunkBytes: Int
    private let ceiling: VersionCeiling?
    private let ceilingFailures = RateLimitedLogger(Logger(label: "meow.learner"), every: .max)
    private let state = Mutex(State())
    private let served = Atomic<Int>(0)

    /// WEIGHTS replies that carried data (not "unchanged"), for metrics.
    public var chunksServed: Int { served.load(ordering: .relaxed) }

    /// - Parameter ceiling: where served versions are reserved before they are served (the run
    ///   directory's `served-version`), so no later learner of the run reuses a number.
    public init(chunkBytes: Int, ceiling: VersionCeiling? = nil) {
        precondition(chunkBytes > 0, "chunks need at least one byte")
        self.chunkBytes = chunkBytes
        self.ceiling = ceiling
    }

    /// The newest version published, if any.
    public var newestVersion: UInt64? { state.withLock { $0.snapshotVersion } }

    /// The newest snapshot if it is newer than `held` (nil: `held` is current, or none yet).
    ///
    /// The learner's inference policy for simulators loads these, as an actor loads WEIGHTS.
    public func snapshot(newerThan held: UInt64?) -> (version: UInt64, tensors: [NamedTensor])? {
        state.withLock { state in
            guard let version = state.snapshotVersion, held.map({ version > $0 }) ?? true else { return nil }
            return (version, state.snapshot)
        }
    }

    /// Makes `tensors` (a copy) the weights served as `version`.
    ///
    /// A version the ceiling cannot cover is not published (the previous one stays served); the
    /// next publish tries again.
    public func publish(version: UInt64, tensors: [NamedTensor]) {
        do {
            try ceiling?.reserve(version)
        } catch {
            ceilingFailures.error("version ceiling",
                                  "learner: version \(version) not served: cannot record it: \(error)")
            return
        }
        state.withLock { state in
            guard (state.snapshotVersion ?? 0) <= version else { return }
            state.snapshotVersion = version
            state.snapshot = tensors
        }
    }

    /// The reply to a WEIGHTS_REQUEST.
    public func reply(to request: WeightsRequest) -> Message {
        let failed = MessageType.weightsRequest.rawValue
        let (newest, snapshot, cached) = state.withLock { ($0.snapshotVersion, $0.snapshot, $0.encoded) }
        guard let newest else {
            return .error(ErrorReply(code: .tryLater, failedType: failed, retryAfterMs: 200,
                                     text: "the learner has no policy yet"))
        }
        if request.onlyIfNewer && request.chunkIndex == 0 && request.fetchVersion == 0
            && request.heldVersion >= newest {
            return .weights(.unchanged(version: newest))
        }
        let wanted = request.chunkIndex == 0 && request.fetchVersion == 0 ? newest : request.fetchVersion
        let encoded: Encoded
        if let hit = cached.first(where: { $0.version == wanted }) {
            encoded = hit
        } else if wanted == newest {
            encoded = Encoded(version: newest, chunks: Self.chunks(of: snapshot, version: newest, chunkBytes: chunkBytes))
            state.withLock { state in
                guard !state.encoded.contains(where: { $0.version == newest }) else { return }
                state.encoded.append(encoded)
                state.encoded.sort { $0.version > $1.version }
                if state.encoded.count > 2 { state.encoded.removeLast(state.encoded.count - 2) }
            }
        } else {
            return .error(ErrorReply(code: .staleVersion, failedType: failed,
                                     text: "version \(wanted) is no longer kept; start again at chunk 0"))
        }
        guard Int(request.chunkIndex) < encoded.chunks.count else {
            return .error(ErrorReply(code: .invalidValue, failedType: failed,
                                     text: "weights_request.chunk_index \(request.chunkIndex) is past the "
                                        + "\(encoded.chunks.count) chunks of version \(encoded.version)"))
        }
        served.add(1, ordering: .relaxed)
        return .weights(encoded.chunks[Int(request.chunkIndex)])
    }

    /// Lays `tensors` out as one little-endian float32 blob and cuts it into chunks.
    static func chunks(of tensors: [NamedTensor], version: UInt64, chunkBytes: Int) -> [WeightsChunk] {
        var table: [TensorEntry] = []
        var blob: [UInt8] = []
        blob.reserveCapacity(tensors.reduce(0) { $0 + 4 * $1.values.count })
        for tensor in tensors {
            table.append(TensorEntry(name: tensor.name, dtype: .float32, shape: tensor.shape,
                                     offset: UInt64(blob.count)))
            #if _endian(little)
            tensor.values.withUnsafeBytes { blob.append(contentsOf: $0) }
            #else
            for value in tensor.values {
                withUnsafeBytes(of: value.bitPattern.littleEndian) { blob.append(contentsOf: $0) }
            }
            #endif
        }
        let total = blob.count
        let count = max(1, (total + chunkBytes - 1) / chunkBytes)
        return (0 ..< count).map { index in
            let start = min(total, index * chunkBytes)
            let end = min(total, start + chunkBytes)
            return WeightsChunk(version: version, totalBytes: UInt64(total), chunkOffset: UInt64(start),
                                chunkIndex: UInt32(index), chunkCount: UInt32(count),
                                tensors: index == 0 ? table : [], data: Array(blob[start ..< end]))
        }
    }
}
