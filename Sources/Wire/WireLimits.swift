/// The receiver's limits (PROTOCOL.md section 7).
///
/// Every length or count read from the wire is compared with one of these before anything is
/// allocated for it, so a forged header claiming gigabytes costs nothing. The defaults match the
/// spec and the Python codec; a learner may raise them (and must then set nng's
/// `NNG_OPT_RECVMAXSZ` to `maxFrameBytes + 4`).
public struct WireLimits: Sendable, Equatable {
    /// Largest frame, header included.
    public var maxFrameBytes: Int = 16 << 20
    /// Most transitions in one TRANSITIONS message.
    public var maxTransitionsPerBatch: Int = 8192
    /// Most elements in one observation (and in an observation space).
    public var maxObservationElements: Int = 4096
    /// Most elements in one action (and in an action space).
    public var maxActionElements: Int = 256
    /// Longest `str` or `bytes` field.
    public var maxStringBytes: Int = 1024
    /// Highest rank of a space or tensor.
    public var maxRank: Int = 8
    /// Most entries in a WEIGHTS tensor table.
    public var maxTensorCount: Int = 1024
    /// Most blob bytes in one WEIGHTS chunk.
    public var maxChunkBytes: Int = 8 << 20
    /// Largest weights blob a WEIGHTS chunk may announce.
    public var maxWeightsBytes: Int = 1 << 30
    /// Most rows in one EPISODE_STATS message.
    public var maxEpisodesPerMessage: Int = 4096
    /// Most rows in one ACTION_REQUEST or ACTION_REPLY.
    public var maxActionRows: Int = 4096
    /// Most records in one extension tail.
    public var maxExtensions: Int = 64

    /// The spec's defaults.
    public init() {}
}
