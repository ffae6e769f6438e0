// Policy traffic: WEIGHTS_REQUEST, WEIGHTS, ACTION_REQUEST, ACTION_REPLY (PROTOCOL.md 5.11 to 5.14).

// MARK: - WEIGHTS_REQUEST

/// A peer asks for one chunk of the policy's weights.
public struct WeightsRequest: PayloadCodable {
    static var messageType: MessageType { .weightsRequest }

    /// Bit 0 of `flags`: reply "unchanged" when the peer already holds the newest version.
    public static let onlyIfNewer: UInt8 = 1 << 0

    /// The version the peer holds, 0 if none.
    public var heldVersion: UInt64
    /// 0 (newest) for chunk 0; the version chunk 0 announced for later chunks.
    public var fetchVersion: UInt64
    public var chunkIndex: UInt32
    public var onlyIfNewer: Bool

    public init(heldVersion: UInt64, fetchVersion: UInt64 = 0, chunkIndex: UInt32 = 0, onlyIfNewer: Bool) {
        self.heldVersion = heldVersion
        self.fetchVersion = fetchVersion
        self.chunkIndex = chunkIndex
        self.onlyIfNewer = onlyIfNewer
    }

    func validate(limits: WireLimits) throws(WireError) {}

    func write(to writer: inout WireWriter) {
        writer.writeUInt64LE(heldVersion)
        writer.writeUInt64LE(fetchVersion)
        writer.writeUInt32LE(chunkIndex)
        writer.writeUInt8(onlyIfNewer ? Self.onlyIfNewer : 0)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> WeightsRequest {
        let held = try reader.readUInt64LE()
        let fetch = try reader.readUInt64LE()
        let chunk = try reader.readUInt32LE()
        let flags = try reader.readUInt8()
        if flags & ~onlyIfNewer != 0 { throw .invalidValue(field: "weights_request.flags", index: 0) }
        return WeightsRequest(heldVersion: held, fetchVersion: fetch, chunkIndex: chunk,
                              onlyIfNewer: flags & onlyIfNewer != 0)
    }
}

// MARK: - WEIGHTS

/// One chunk of a weights blob; chunk 0 carries the tensor table.
///
/// `chunkCount == 0` means "unchanged": the peer already holds `version`.
public struct WeightsChunk: PayloadCodable {
    static var messageType: MessageType { .weights }

    public var version: UInt64
    /// Size of the whole blob.
    public var totalBytes: UInt64
    /// Where `data` starts in the blob.
    public var chunkOffset: UInt64
    public var chunkIndex: UInt32
    public var chunkCount: UInt32
    /// Empty unless `chunkIndex == 0`.
    public var tensors: [TensorEntry]
    public var data: [UInt8]

    public init(version: UInt64, totalBytes: UInt64, chunkOffset: UInt64, chunkIndex: UInt32, chunkCount: UInt32,
                tensors: [TensorEntry], data: [UInt8]) {
        self.version = version
        self.totalBytes = totalBytes
        self.chunkOffset = chunkOffset
        self.chunkIndex = chunkIndex
        self.chunkCount = chunkCount
        self.tensors = tensors
        self.data = data
    }

    /// The "unchanged" reply: the peer already holds the newest version.
    public static func unchanged(version: UInt64) -> WeightsChunk {
        WeightsChunk(version: version, totalBytes: 0, chunkOffset: 0, chunkIndex: 0, chunkCount: 0,
                     tensors: [], data: [])
    }

    func validate(limits: WireLimits) throws(WireError) {
        try Check.count(Int(clamping: totalBytes), limit: limits.maxWeightsBytes, field: "weights.total_bytes")
        try Check.count(tensors.count, limit: limits.maxTensorCount, field: "weights.tensor_count")
        if chunkIndex != 0 && !tensors.isEmpty {
            throw .malformed(field: "weights.tensor_count", reason: "only chunk 0 carries the table")
        }
        for (index, tensor) in tensors.enumerated() {
            try Check.string(tensor.name, limits: limits, field: "weights.tensors.name")
            try Check.count(tensor.shape.count, limit: min(limits.maxRank, 255), field: "weights.tensors.rank")
            for dimension in tensor.shape { try Check.u32(dimension, field: "weights.tensors.shape") }
            try tensor.checkInside(totalBytes: totalBytes, index: index)
        }
        try Check.count(data.count, limit: limits.maxChunkBytes, field: "weights.data_length")
        try checkPlacement()
    }

    /// Cross-field rules of PROTOCOL.md 5.12, checked after the whole body.
    private func checkPlacement() throws(WireError) {
        if chunkCount == 0 {
            if chunkIndex != 0 || totalBytes != 0 || chunkOffset != 0 || !tensors.isEmpty || !data.isEmpty {
                throw .malformed(field: "weights.chunk_count", reason: "an unchanged reply carries nothing")
            }
            return
        }
        if chunkIndex >= chunkCount {
            throw .malformed(field: "weights.chunk_index", reason: "chunk \(chunkIndex) of \(chunkCount)")
        }
        let (end, overflow) = chunkOffset.addingReportingOverflow(UInt64(data.count))
        if overflow || end > totalBytes {
            throw .malformed(field: "weights.chunk_offset", reason: "chunk data run past the blob")
        }
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt64LE(version)
        writer.writeUInt64LE(totalBytes)
        writer.writeUInt64LE(chunkOffset)
        writer.writeUInt32LE(chunkIndex)
        writer.writeUInt32LE(chunkCount)
        writer.writeCount(tensors.count)
        for tensor in tensors {
            writer.writeString(tensor.name)
            writer.writeUInt8(tensor.dtype.rawValue)
            writer.writeUInt8(UInt8(truncatingIfNeeded: tensor.shape.count))
            for dimension in tensor.shape { writer.writeCount(dimension) }
            writer.writeUInt64LE(tensor.offset)
        }
        writer.writeCount(data.count)
        writer.writeBytes(data)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> WeightsChunk {
        let version = try reader.readUInt64LE()
        let totalBytes = try reader.readUInt64LE()
        if totalBytes > UInt64(max(0, limits.maxWeightsBytes)) {
            throw .lengthOverLimit(field: "weights.total_bytes", limit: limits.maxWeightsBytes, claimed: totalBytes)
        }
        let chunkOffset = try reader.readUInt64LE()
        let chunkIndex = try reader.readUInt32LE()
        let chunkCount = try reader.readUInt32LE()
        // Cross-field rules right after their last field (PROTOCOL.md 2.1, 5.12).
        if chunkCount == 0 && (chunkIndex != 0 || totalBytes != 0 || chunkOffset != 0) {
            throw .malformed(field: "weights.chunk_count", reason: "an unchanged reply carries nothing")
        }
        if chunkCount != 0 && chunkIndex >= chunkCount {
            throw .malformed(field: "weights.chunk_index", reason: "chunk \(chunkIndex) of \(chunkCount)")
        }
        let tensorCount = try reader.readCount("weights.tensor_count", limit: limits.maxTensorCount)
        if chunkIndex != 0 && tensorCount != 0 {
            throw .malformed(field: "weights.tensor_count", reason: "only chunk 0 carries the table")
        }
        if chunkCount == 0 && tensorCount != 0 {
            throw .malformed(field: "weights.chunk_count", reason: "an unchanged reply carries nothing")
        }
        var tensors: [TensorEntry] = []
        for index in 0 ..< tensorCount {
            let name = try reader.readString("weights.tensors.name", limits: limits)
            guard let dtype = DType(rawValue: try reader.readUInt8()) else {
                throw .invalidValue(field: "weights.tensors.dtype", index: index)
            }
            let rank = Int(try reader.readUInt8())
            try Check.count(rank, limit: limits.maxRank, field: "weights.tensors.rank")
            var shape: [Int] = []
            for _ in 0 ..< rank { shape.append(Int(try reader.readUInt32LE())) }
            let tensor = TensorEntry(name: name, dtype: dtype, shape: shape, offset: try reader.readUInt64LE())
            try tensor.checkInside(totalBytes: totalBytes, index: index)
            tensors.append(tensor)
        }
        let dataLength = try reader.readCount("weights.data_length", limit: limits.maxChunkBytes)
        if chunkCount == 0 && dataLength != 0 {
            throw .malformed(field: "weights.chunk_count", reason: "an unchanged reply carries nothing")
        }
        let (end, overflow) = chunkOffset.addingReportingOverflow(UInt64(dataLength))
        if overflow || end > totalBytes {
            throw .malformed(field: "weights.chunk_offset", reason: "chunk data run past the blob")
        }
        let data = try reader.readBytes(count: dataLength)
        return WeightsChunk(version: version, totalBytes: totalBytes, chunkOffset: chunkOffset,
                            chunkIndex: chunkIndex, chunkCount: chunkCount, tensors: tensors, data: data)
    }
}

// MARK: - ACTION_REQUEST

/// A simulator's rows of events, each asking for the next action of one episode.
///
/// Rows also report the previous step's reward and done flags so the learner can build
/// transitions without a separate upload.
public struct ActionRequest: PayloadCodable {
    static var messageType: MessageType { .actionRequest }

    /// Bit 0 of `flags`: evaluation, the policy's mean action.
    public static let deterministicFlag: UInt32 = 1 << 0
    /// Bit 1 of `flags`: the simulator wants V(s) per row.
    public static let wantValuesFlag: UInt32 = 1 << 1

    public var deterministic: Bool
    public var wantValues: Bool
    /// `d_o`.
    public var observationSize: Int
    /// `d_a` expected in the reply.
    public var actionSize: Int
    public var episodeIDs: [UInt64]
    /// Row-major, `count * observationSize`.
    public var observations: [Float]
    /// Reward of the previous step (0 for `start`).
    public var previousRewards: [Float]
    public var events: [ActionEvent]
    /// `DoneFlags` raw values of the previous step.
    public var previousDoneFlags: [UInt8]

    public init(deterministic: Bool, wantValues: Bool = false, observationSize: Int, actionSize: Int,
                episodeIDs: [UInt64], observations: [Float], previousRewards: [Float], events: [ActionEvent],
                previousDoneFlags: [UInt8]) {
        self.deterministic = deterministic
        self.wantValues = wantValues
        self.observationSize = observationSize
        self.actionSize = actionSize
        self.episodeIDs = episodeIDs
        self.observations = observations
        self.previousRewards = previousRewards
        self.events = events
        self.previousDoneFlags = previousDoneFlags
    }

    /// Rows in the request.
    public var count: Int { episodeIDs.count }

    func validate(limits: WireLimits) throws(WireError) {
        try Check.count(count, limit: limits.maxActionRows, field: "action_request.count")
        try TransitionBatch.checkDimension(observationSize, limit: limits.maxObservationElements,
                                           field: "action_request.obs_dim")
        try TransitionBatch.checkDimension(actionSize, limit: limits.maxActionElements,
                                           field: "action_request.action_dim")
        try Check.shape(observations.count, rows: count, width: observationSize, field: "action_request.observations")
        try Check.shape(previousRewards.count, rows: count, width: 1, field: "action_request.prev_rewards")
        try Check.shape(events.count, rows: count, width: 1, field: "action_request.events")
        try Check.shape(previousDoneFlags.count, rows: count, width: 1, field: "action_request.prev_done_flags")
        try Check.finite(observations, field: "action_request.observations")
        try Check.finite(previousRewards, field: "action_request.prev_rewards")
        try Check.doneFlags(previousDoneFlags, field: "action_request.prev_done_flags")
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt32LE((deterministic ? Self.deterministicFlag : 0) | (wantValues ? Self.wantValuesFlag : 0))
        writer.writeCount(count)
        writer.writeCount(observationSize)
        writer.writeCount(actionSize)
        writer.writeUInt64ColumnLE(episodeIDs)
        writer.writeFloat32ColumnLE(observations)
        writer.writeFloat32ColumnLE(previousRewards)
        writer.writeBytes(events.map(\.rawValue))
        writer.writeBytes(previousDoneFlags)
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> ActionRequest {
        let flags = try reader.readUInt32LE()
        if flags & ~(deterministicFlag | wantValuesFlag) != 0 {
            throw .invalidValue(field: "action_request.flags", index: 0)
        }
        let count = try reader.readCount("action_request.count", limit: limits.maxActionRows)
        let observationSize = try reader.readCount("action_request.obs_dim", limit: limits.maxObservationElements)
        if observationSize < 1 { throw .invalidValue(field: "action_request.obs_dim", index: 0) }
        let actionSize = try reader.readCount("action_request.action_dim", limit: limits.maxActionElements)
        if actionSize < 1 { throw .invalidValue(field: "action_request.action_dim", index: 0) }
        try reader.need(rows: count, rowBytes: 14 + 4 * observationSize)
        let observationElements = try reader.elements(count, observationSize)
        let episodeIDs = try reader.readUInt64ColumnLE(count: count)
        let observations = try reader.readFiniteColumn(count: observationElements, "action_request.observations")
        let rewards = try reader.readFiniteColumn(count: count, "action_request.prev_rewards")
        let rawEvents = try reader.readByteColumn(count: count)
        var events: [ActionEvent] = []
        events.reserveCapacity(count)
        for (index, raw) in rawEvents.enumerated() {
            guard let event = ActionEvent(rawValue: raw) else {
                throw .invalidValue(field: "action_request.events", index: index)
            }
            events.append(event)
        }
        let doneFlags = try reader.readByteColumn(count: count)
        try Check.doneFlags(doneFlags, field: "action_request.prev_done_flags")
        return ActionRequest(
            deterministic: flags & deterministicFlag != 0, wantValues: flags & wantValuesFlag != 0,
            observationSize: observationSize, actionSize: actionSize, episodeIDs: episodeIDs,
            observations: observations, previousRewards: rewards, events: events, previousDoneFlags: doneFlags)
    }
}

// MARK: - ACTION_REPLY

/// The learner's actions for every row of an ACTION_REQUEST.
public struct ActionReply: PayloadCodable {
    static var messageType: MessageType { .actionReply }

    /// Bit 0 of `flags`: `values` follow the actions.
    public static let hasValuesFlag: UInt32 = 1 << 0

    /// The version that chose the actions.
    public var policyVersion: UInt64
    /// `d_a`.
    public var actionSize: Int
    /// Row-major, normalised to [-1, 1]; rows of `end` events are 0.
    public var actions: [Float]
    /// V(s) per row, when asked for and granted.
    public var values: [Float]?

    public init(policyVersion: UInt64, actionSize: Int, actions: [Float], values: [Float]? = nil) {
        self.policyVersion = policyVersion
        self.actionSize = actionSize
        self.actions = actions
        self.values = values
    }

    /// Rows in the reply.
    public var count: Int { actionSize > 0 ? actions.count / actionSize : 0 }

    func validate(limits: WireLimits) throws(WireError) {
        try TransitionBatch.checkDimension(actionSize, limit: limits.maxActionElements,
                                           field: "action_reply.action_dim")
        try Check.count(count, limit: limits.maxActionRows, field: "action_reply.count")
        try Check.shape(actions.count, rows: count, width: actionSize, field: "action_reply.actions")
        try Check.unitInterval(actions, field: "action_reply.actions")
        if let values {
            try Check.shape(values.count, rows: count, width: 1, field: "action_reply.values")
            try Check.finite(values, field: "action_reply.values")
        }
    }

    func write(to writer: inout WireWriter) {
        writer.writeUInt64LE(policyVersion)
        writer.writeCount(count)
        writer.writeCount(actionSize)
        writer.writeUInt32LE(values == nil ? 0 : Self.hasValuesFlag)
        writer.writeFloat32ColumnLE(actions)
        if let values { writer.writeFloat32ColumnLE(values) }
    }

    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> ActionReply {
        let policyVersion = try reader.readUInt64LE()
        let count = try reader.readCount("action_reply.count", limit: limits.maxActionRows)
        let actionSize = try reader.readCount("action_reply.action_dim", limit: limits.maxActionElements)
        if actionSize < 1 { throw .invalidValue(field: "action_reply.action_dim", index: 0) }
        let flags = try reader.readUInt32LE()
        if flags & ~hasValuesFlag != 0 { throw .invalidValue(field: "action_reply.flags", index: 0) }
        try reader.need(rows: count, rowBytes: 4 * actionSize + (flags & hasValuesFlag != 0 ? 4 : 0))
        let actions = try reader.readFloat32ColumnLE(count: try reader.elements(count, actionSize))
        try Check.unitInterval(actions, field: "action_reply.actions")
        let values = flags & hasValuesFlag != 0 ? try reader.readFiniteColumn(count: count, "action_reply.values") : nil
        return ActionReply(policyVersion: policyVersion, actionSize: actionSize, actions: actions, values: values)
    }
}
