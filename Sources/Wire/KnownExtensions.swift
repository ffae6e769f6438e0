// Extension records this codec understands (PROTOCOL.md 8.1). Each is optional: a sender may
// leave it out and a receiver that does not know it skips it.

/// TRANSITIONS tag 1, `acting_versions`: per row, how far past the batch's `policy_version` the
/// version that chose its action is (u32[n]), so the learner measures staleness per transition.
public enum TransitionsExtensionTag {
    public static let actingVersions: UInt16 = 1
}

/// WELCOME tag 1, `weights_lag`: the learner's pull rule by lag. Two u32: pull when the learner is
/// ahead of the held weights by at least `max_lag_versions` (0: no rule), or when the held weights
/// are older than `max_age_ms` and the learner has newer ones (0: no rule).
public enum WelcomeExtensionTag {
    public static let weightsLag: UInt16 = 1
}

/// The learner's pull-by-lag rule, carried by WELCOME's `weights_lag` record.
public struct WeightsLagRule: Equatable, Sendable {
    /// Pull when the learner is this many versions ahead (0: never for lag alone).
    public var maxLagVersions: UInt32
    /// Pull when the held weights are this old and newer ones exist (0: never for age alone).
    public var maxAgeMs: UInt32

    public init(maxLagVersions: UInt32, maxAgeMs: UInt32) {
        self.maxLagVersions = maxLagVersions
        self.maxAgeMs = maxAgeMs
    }
}

extension Frame {
    /// The records this codec writes for fields of `message` that travel as extensions.
    static func knownRecords(of message: Message) -> [WireExtension] {
        switch message {
        case .transitions(let batch):
            guard let offsets = batch.actingVersionOffsets else { return [] }
            var writer = WireWriter(capacity: 4 * offsets.count)
            for offset in offsets { writer.writeUInt32LE(offset) }
            return [WireExtension(tag: TransitionsExtensionTag.actingVersions, value: writer.bytes)]
        case .welcome(let welcome):
            guard let rule = welcome.weightsLag else { return [] }
            var writer = WireWriter(capacity: 8)
            writer.writeUInt32LE(rule.maxLagVersions)
            writer.writeUInt32LE(rule.maxAgeMs)
            return [WireExtension(tag: WelcomeExtensionTag.weightsLag, value: writer.bytes)]
        default:
            return []
        }
    }

    /// Moves the records this codec understands out of `extensions` into `message`'s fields.
    ///
    /// A known record appears at most once and has its stated length, else `MALFORMED`.
    static func absorbKnownRecords(into message: inout Message, from extensions: inout [WireExtension])
        throws(WireError) {
        switch message {
        case .transitions(var batch):
            guard let value = try take(TransitionsExtensionTag.actingVersions, from: &extensions,
                                       field: "transitions.extensions.acting_versions") else { return }
            guard value.count == 4 * batch.count else {
                throw .malformed(field: "transitions.extensions.acting_versions",
                                 reason: "\(value.count) bytes for \(batch.count) rows; expected 4 per row")
            }
            let reader = WireReader(value)
            var offsets: [UInt32] = []
            offsets.reserveCapacity(batch.count)
            for row in 0 ..< batch.count { offsets.append(try reader.getUInt32LE(at: 4 * row)) }
            batch.actingVersionOffsets = offsets
            message = .transitions(batch)
        case .welcome(var welcome):
            guard let value = try take(WelcomeExtensionTag.weightsLag, from: &extensions,
                                       field: "welcome.extensions.weights_lag") else { return }
            guard value.count == 8 else {
                throw .malformed(field: "welcome.extensions.weights_lag", reason: "\(value.count) bytes; expected 8")
            }
            let reader = WireReader(value)
            welcome.weightsLag = WeightsLagRule(maxLagVersions: try reader.getUInt32LE(at: 0),
                                                maxAgeMs: try reader.getUInt32LE(at: 4))
            message = .welcome(welcome)
        default:
            return
        }
    }

    private static func take(_ tag: UInt16, from extensions: inout [WireExtension], field: String)
        throws(WireError) -> [UInt8]? {
        guard let index = try WireExtension.index(of: tag, in: extensions, field: field) else { return nil }
        return extensions.remove(at: index).value
    }
}

extension WireExtension {
    /// Where the one record with `tag` is in `extensions`; nil without one, `MALFORMED` (`field`)
    /// when it appears more than once (PROTOCOL.md 8.1).
    public static func index(of tag: UInt16, in extensions: [WireExtension], field: String)
        throws(WireError) -> Int? {
        let matches = extensions.indices.filter { extensions[$0].tag == tag }
        guard let first = matches.first else { return nil }
        if matches.count > 1 { throw .malformed(field: field, reason: "the record appears \(matches.count) times") }
        return first
    }
}
