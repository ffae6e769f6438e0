@testable import Wire

// The golden vectors' JSON describes each frame's fields (PROTOCOL.md section 10). These helpers
// build the same description from a decoded Swift frame and compare the two, keeping number
// literals as text so 64-bit ids and float32 values compare exactly.

// MARK: - A minimal JSON value

indirect enum JSON: Equatable {
    case number(String)
    case string(String)
    case bool(Bool)
    case null
    case array([JSON])
    case object([String: JSON])

    static func int<T: BinaryInteger>(_ value: T) -> JSON { .number(String(value)) }
    static func float(_ value: Float) -> JSON { .number(String(Double(value))) }
    static func double(_ value: Double) -> JSON { .number(String(value)) }
    static func ints<T: BinaryInteger>(_ values: [T]) -> JSON { .array(values.map { .int($0) }) }
    static func floats(_ values: [Float]) -> JSON { .array(values.map { .float($0) }) }
    static func hex(_ bytes: [UInt8]) -> JSON {
        let digits = Array("0123456789abcdef")
        return .string(String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }))
    }

    subscript(key: String) -> JSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }
}

/// Where `expected` and `actual` first differ, or nil when they agree; numbers compare by value.
func firstDifference(_ expected: JSON, _ actual: JSON, path: String = "$") -> String? {
    switch (expected, actual) {
    case (.number(let a), .number(let b)):
        if a == b { return nil }
        // Integers (ids up to 2^64) must match digit for digit; floats match by value.
        let isInteger = { (literal: String) in !literal.contains(where: { ".eE".contains($0) }) }
        if !(isInteger(a) && isInteger(b)), let x = Double(a), let y = Double(b), x == y { return nil }
        return "\(path): expected \(a), got \(b)"
    case (.array(let a), .array(let b)):
        if a.count != b.count { return "\(path): expected \(a.count) elements, got \(b.count)" }
        for (index, pair) in zip(a, b).enumerated() {
            if let difference = firstDifference(pair.0, pair.1, path: "\(path)[\(index)]") { return difference }
        }
        return nil
    case (.object(let a), .object(let b)):
        if Set(a.keys) != Set(b.keys) {
            return "\(path): keys \(a.keys.sorted()) vs \(b.keys.sorted())"
        }
        for key in a.keys.sorted() {
            if let difference = firstDifference(a[key]!, b[key]!, path: "\(path).\(key)") { return difference }
        }
        return nil
    default:
        return expected == actual ? nil : "\(path): expected \(expected), got \(actual)"
    }
}

// MARK: - Parsing

struct JSONParser {
    struct Failure: Error { let offset: Int }

    private let text: [UInt8]
    private var index = 0

    static func parse(_ bytes: [UInt8]) throws -> JSON {
        var parser = JSONParser(text: bytes)
        let value = try parser.value()
        parser.skipSpace()
        guard parser.index == parser.text.count else { throw Failure(offset: parser.index) }
        return value
    }

    private init(text: [UInt8]) { self.text = text }

    private mutating func skipSpace() {
        while index < text.count, [0x20, 0x0A, 0x0D, 0x09].contains(text[index]) { index += 1 }
    }

    private mutating func expect(_ literal: String) throws {
        for byte in literal.utf8 {
            guard index < text.count, text[index] == byte else { throw Failure(offset: index) }
            index += 1
        }
    }

    private mutating func value() throws -> JSON {
        skipSpace()
        guard index < text.count else { throw Failure(offset: index) }
        switch text[index] {
        case UInt8(ascii: "{"):
            index += 1
            var members: [String: JSON] = [:]
            skipSpace()
            if text[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
            while true {
                skipSpace()
                guard case .string(let key) = try value() else { throw Failure(offset: index) }
                skipSpace()
                try expect(":")
                members[key] = try value()
                skipSpace()
                if text[index] == UInt8(ascii: ",") { index += 1; continue }
                try expect("}")
                return .object(members)
            }
        case UInt8(ascii: "["):
            index += 1
            var elements: [JSON] = []
            skipSpace()
            if text[index] == UInt8(ascii: "]") { index += 1; return .array(elements) }
            while true {
                elements.append(try value())
                skipSpace()
                if text[index] == UInt8(ascii: ",") { index += 1; continue }
                try expect("]")
                return .array(elements)
            }
        case UInt8(ascii: "\""):
            index += 1
            var scalars = String.UnicodeScalarView()
            var raw: [UInt8] = []
            while text[index] != UInt8(ascii: "\"") {
                if text[index] == UInt8(ascii: "\\") {
                    index += 1
                    let escape = text[index]
                    index += 1
                    let simple: [UInt8: Character] = [0x22: "\"", 0x5C: "\\", 0x2F: "/", 0x62: "\u{8}",
                                                      0x66: "\u{C}", 0x6E: "\n", 0x72: "\r", 0x74: "\t"]
                    if let character = simple[escape] {
                        raw.append(contentsOf: Array(String(character).utf8))
                    } else if escape == UInt8(ascii: "u") {
                        let hex = String(decoding: text[index ..< index + 4], as: UTF8.self)
                        index += 4
                        guard let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code) else {
                            throw Failure(offset: index)
                        }
                        raw.append(contentsOf: Array(String(scalar).utf8))
                    } else {
                        throw Failure(offset: index)
                    }
                } else {
                    raw.append(text[index])
                    index += 1
                }
            }
            index += 1
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            return .string(String(scalars))
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        default:
            let start = index
            let numberBytes = Set("+-0123456789.eE".utf8)
            while index < text.count, numberBytes.contains(text[index]) { index += 1 }
            guard index > start else { throw Failure(offset: index) }
            return .number(String(decoding: text[start ..< index], as: UTF8.self))
        }
    }
}

// MARK: - Describing a decoded frame

func describe(_ frame: Frame) -> JSON {
    var fields: [String: JSON] = [
        "type": .string(frame.message.type.specName),
        "minor": .int(frame.minor),
        "flags": .int(frame.flags),
        "request_id": .int(frame.requestID),
        "extensions": .array(frame.extensions.map { .object(["tag": .int($0.tag), "value": .hex($0.value)]) }),
        "message": describe(frame.message),
    ]
    // The evaluation records of PROTOCOL.md 5.15, decoded (a malformed one is described as null).
    switch frame.message {
    case .actionReply where frame.extensions.contains { $0.tag == EvaluationRecords.evaluateTag }:
        let assignment = try? EvaluationAssignment.find(in: frame.extensions)
        fields["evaluation"] = assignment.map { .object(["seeds": .ints($0.seeds)]) } ?? .null
    case .actionRequest where frame.extensions.contains { $0.tag == EvaluationRecords.startsTag }:
        let starts = try? EvaluationStarts.find(in: frame.extensions)
        fields["evaluation"] = starts.map { .object(["episode_ids": .ints($0.episodeIDs), "seeds": .ints($0.seeds)]) }
            ?? .null
    default:
        break
    }
    return .object(fields)
}

extension MessageType {
    /// The registry's upper-case name.
    var specName: String { fieldPrefix.uppercased() }
}

private func version(_ v: ProtocolVersion) -> JSON { .array([.int(v.major), .int(v.minor)]) }

private func space(_ s: Space) -> JSON {
    .object(["shape": .ints(s.shape), "low": .floats(s.low), "high": .floats(s.high)])
}

func describe(_ message: Message) -> JSON {
    switch message {
    case .hello(let m):
        return .object([
            "role": .int(m.role.rawValue), "min_version": version(m.minVersion),
            "max_version": version(m.maxVersion), "capabilities": .int(m.capabilities.rawValue),
            "actor_id": .int(m.actorID), "run_id": .int(m.runID), "client_name": .string(m.clientName),
            "client_version": .string(m.clientVersion), "auth_token": .hex(m.authToken),
            "env_id": .string(m.envID), "observation_space": space(m.observationSpace),
            "action_space": space(m.actionSpace),
        ])
    case .welcome(let m):
        return .object([
            "version": version(m.version), "capabilities": .int(m.capabilities.rawValue),
            "learner_run_id": .int(m.learnerRunID), "policy_version": .int(m.policyVersion),
            "warmup_transitions": .int(m.warmupTransitions), "batch_hint": .int(m.batchHint),
            "max_batch": .int(m.maxBatch), "upload_interval_ms": .int(m.uploadIntervalMs),
            "weights_chunk_bytes": .int(m.weightsChunkBytes), "weights_refresh_steps": .int(m.weightsRefreshSteps),
            "heartbeat_interval_ms": .int(m.heartbeatIntervalMs), "max_frame_bytes": .int(m.maxFrameBytes),
            "env_id": .string(m.envID), "preset": .string(m.preset),
        ])
    case .refused(let m):
        return .object([
            "code": .int(m.code.rawValue), "retry_after_ms": .int(m.retryAfterMs),
            "min_version": version(m.minVersion), "max_version": version(m.maxVersion), "text": .string(m.text),
        ])
    case .goodbye(let m):
        return .object(["reason": .int(m.reason.rawValue), "text": .string(m.text)])
    case .ack(let m):
        return .object(["acked_type": .int(m.ackedType.rawValue)])
    case .error(let m):
        return .object([
            "code": .int(m.code.rawValue), "failed_type": .int(m.failedType),
            "retry_after_ms": .int(m.retryAfterMs), "text": .string(m.text),
        ])
    case .heartbeat(let m):
        return .object([
            "actor_id": .int(m.actorID), "queue_length": .int(m.queueLength), "run_id": .int(m.runID),
            "policy_version": .int(m.policyVersion), "env_steps": .int(m.envSteps), "episodes": .int(m.episodes),
            "batches_sent": .int(m.batchesSent), "batches_acked": .int(m.batchesAcked),
            "transitions_dropped": .int(m.transitionsDropped),
        ])
    case .heartbeatReply(let m):
        return .object([
            "learner_run_id": .int(m.learnerRunID), "policy_version": .int(m.policyVersion),
            "updates": .int(m.updates), "replay_size": .int(m.replaySize),
        ])
    case .transitions(let m):
        return .object([
            "actor_id": .int(m.actorID), "run_id": .int(m.runID), "seq": .int(m.seq),
            "policy_version": .int(m.policyVersion), "obs_dim": .int(m.observationSize),
            "action_dim": .int(m.actionSize), "episode_ids": .ints(m.episodeIDs),
            "step_indices": .ints(m.stepIndices), "observations": .floats(m.observations),
            "next_observations": .floats(m.nextObservations), "actions": .floats(m.actions),
            "rewards": .floats(m.rewards), "done_flags": .ints(m.doneFlags),
        ])
    case .transitionsAck(let m):
        return .object([
            "seq": .int(m.seq), "policy_version": .int(m.policyVersion),
            "retry_after_ms": .int(m.retryAfterMs), "status": .int(m.status.rawValue),
        ])
    case .episodeStats(let m):
        return .object([
            "actor_id": .int(m.actorID), "run_id": .int(m.runID),
            "episode_ids": .ints(m.episodes.map(\.episodeID)), "seeds": .ints(m.episodes.map(\.seed)),
            "returns": .array(m.episodes.map { .double($0.episodeReturn) }),
            "seconds": .array(m.episodes.map { .double($0.seconds) }), "lengths": .ints(m.episodes.map(\.length)),
        ])
    case .weightsRequest(let m):
        return .object([
            "held_version": .int(m.heldVersion), "fetch_version": .int(m.fetchVersion),
            "chunk_index": .int(m.chunkIndex), "only_if_newer": .bool(m.onlyIfNewer),
        ])
    case .weights(let m):
        return .object([
            "version": .int(m.version), "total_bytes": .int(m.totalBytes), "chunk_offset": .int(m.chunkOffset),
            "chunk_index": .int(m.chunkIndex), "chunk_count": .int(m.chunkCount),
            "tensors": .array(m.tensors.map {
                .object(["name": .string($0.name), "dtype": .int($0.dtype.rawValue), "shape": .ints($0.shape),
                         "offset": .int($0.offset)])
            }),
            "data": .hex(m.data),
        ])
    case .actionRequest(let m):
        return .object([
            "deterministic": .bool(m.deterministic), "want_values": .bool(m.wantValues),
            "obs_dim": .int(m.observationSize), "action_dim": .int(m.actionSize),
            "episode_ids": .ints(m.episodeIDs), "observations": .floats(m.observations),
            "prev_rewards": .floats(m.previousRewards), "events": .ints(m.events.map(\.rawValue)),
            "prev_done_flags": .ints(m.previousDoneFlags),
        ])
    case .actionReply(let m):
        return .object([
            "policy_version": .int(m.policyVersion), "action_dim": .int(m.actionSize),
            "actions": .floats(m.actions), "values": m.values.map { .floats($0) } ?? .null,
        ])
    }
}
