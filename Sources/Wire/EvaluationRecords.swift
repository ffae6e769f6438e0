/// The evaluation episodes a learner schedules for simulators (PROTOCOL.md 5.15).
///
/// Version 1.0 has no field for them, so they travel as extension records (section 8) that
/// only a peer granted the `EVALUATION` capability is sent: a receiver that does not know the
/// tags skips them, and the frames stay version 1.0.
public enum EvaluationRecords {
    /// ACTION_REPLY tag `EVALUATE`: start the next episodes as evaluation episodes with these seeds.
    public static let evaluateTag: UInt16 = 0x0001
    /// ACTION_REQUEST tag `EVALUATION_STARTS`: episodes this request starts as evaluation episodes.
    public static let startsTag: UInt16 = 0x0001
    /// A seed value that means "none" (as EPISODE_STATS); never a valid evaluation seed.
    public static let noSeed = UInt64.max
}

/// ACTION_REPLY's `EVALUATE` record: the reset seeds of the evaluation episodes the simulator
/// starts next, in order.
///
/// Value: `u32 count`, then `u64 seeds[count]`; `count` is 1..`max_action_rows`.
public struct EvaluationAssignment: Equatable, Sendable {
    public var seeds: [UInt64]

    public init(seeds: [UInt64]) {
        self.seeds = seeds
    }

    /// The record, after the checks a receiver applies.
    public func record(limits: WireLimits = WireLimits()) throws(WireError) -> WireExtension {
        try Self.check(seeds, limits: limits)
        var writer = WireWriter(capacity: 4 + 8 * seeds.count)
        writer.writeCount(seeds.count)
        writer.writeUInt64ColumnLE(seeds)
        return WireExtension(tag: EvaluationRecords.evaluateTag, value: writer.bytes)
    }

    /// The record among `extensions`, if present; a malformed one throws.
    public static func find(in extensions: [WireExtension], limits: WireLimits = WireLimits())
        throws(WireError) -> EvaluationAssignment? {
        let field = "action_reply.extensions.evaluate"
        guard let index = try WireExtension.index(of: EvaluationRecords.evaluateTag, in: extensions, field: field) else { return nil }
        let record = extensions[index]
        guard record.value.count >= 4 else { throw .malformed(field: field, reason: "shorter than its count") }
        var reader = WireReader(record.value)
        let count = try reader.readCount(field + ".count", limit: limits.maxActionRows)
        guard record.value.count == 4 + 8 * count else {
            throw .malformed(field: field, reason: "\(record.value.count) bytes for \(count) seeds")
        }
        let seeds = try reader.readUInt64ColumnLE(count: count)
        try check(seeds, limits: limits)
        return EvaluationAssignment(seeds: seeds)
    }

    private static func check(_ seeds: [UInt64], limits: WireLimits) throws(WireError) {
        let field = "action_reply.extensions.evaluate"
        try Check.count(seeds.count, limit: limits.maxActionRows, field: field + ".count")
        if seeds.isEmpty { throw .invalidValue(field: field + ".count", index: 0) }
        if let index = seeds.firstIndex(of: EvaluationRecords.noSeed) {
            throw .invalidValue(field: field + ".seeds", index: index)
        }
    }
}

/// ACTION_REQUEST's `EVALUATION_STARTS` record: the episodes whose `START` row is in this
/// request and that run as evaluation episodes, each with the seed it was reset with (one the
/// learner assigned).
///
/// Value: `u32 count`, then `u64 episode_ids[count]`, then `u64 seeds[count]`; `count` is
/// 1..`max_action_rows`.
public struct EvaluationStarts: Equatable, Sendable {
    public var episodeIDs: [UInt64]
    public var seeds: [UInt64]

    public init(episodeIDs: [UInt64], seeds: [UInt64]) {
        self.episodeIDs = episodeIDs
        self.seeds = seeds
    }

    /// The record, after the checks a receiver applies.
    public func record(limits: WireLimits = WireLimits()) throws(WireError) -> WireExtension {
        try Self.check(episodeIDs, seeds, limits: limits)
        var writer = WireWriter(capacity: 4 + 16 * seeds.count)
        writer.writeCount(seeds.count)
        writer.writeUInt64ColumnLE(episodeIDs)
        writer.writeUInt64ColumnLE(seeds)
        return WireExtension(tag: EvaluationRecords.startsTag, value: writer.bytes)
    }

    /// The record among `extensions`, if present; a malformed one throws.
    public static func find(in extensions: [WireExtension], limits: WireLimits = WireLimits())
        throws(WireError) -> EvaluationStarts? {
        let field = "action_request.extensions.evaluation_starts"
        guard let index = try WireExtension.index(of: EvaluationRecords.startsTag, in: extensions, field: field) else { return nil }
        let record = extensions[index]
        guard record.value.count >= 4 else { throw .malformed(field: field, reason: "shorter than its count") }
        var reader = WireReader(record.value)
        let count = try reader.readCount(field + ".count", limit: limits.maxActionRows)
        guard record.value.count == 4 + 16 * count else {
            throw .malformed(field: field, reason: "\(record.value.count) bytes for \(count) episodes")
        }
        let ids = try reader.readUInt64ColumnLE(count: count)
        let seeds = try reader.readUInt64ColumnLE(count: count)
        try check(ids, seeds, limits: limits)
        return EvaluationStarts(episodeIDs: ids, seeds: seeds)
    }

    private static func check(_ ids: [UInt64], _ seeds: [UInt64], limits: WireLimits) throws(WireError) {
        let field = "action_request.extensions.evaluation_starts"
        try Check.count(seeds.count, limit: limits.maxActionRows, field: field + ".count")
        if seeds.isEmpty { throw .invalidValue(field: field + ".count", index: 0) }
        if ids.count != seeds.count {
            throw .malformed(field: field, reason: "\(ids.count) episode ids for \(seeds.count) seeds")
        }
        if let index = seeds.firstIndex(of: EvaluationRecords.noSeed) {
            throw .invalidValue(field: field + ".seeds", index: index)
        }
        if Set(ids).count != ids.count {
            throw .malformed(field: field + ".episode_ids", reason: "an episode is named twice")
        }
    }
}
