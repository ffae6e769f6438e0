/// Every message of protocol version 1.
public enum Message: Equatable, Sendable {
    case hello(Hello)
    case welcome(Welcome)
    case refused(Refused)
    case goodbye(Goodbye)
    case ack(Ack)
    case error(ErrorReply)
    case heartbeat(Heartbeat)
    case heartbeatReply(HeartbeatReply)
    case transitions(TransitionBatch)
    case transitionsAck(TransitionsAck)
    case episodeStats(EpisodeStats)
    case weightsRequest(WeightsRequest)
    case weights(WeightsChunk)
    case actionRequest(ActionRequest)
    case actionReply(ActionReply)

    /// The registry value in the frame header.
    public var type: MessageType {
        Swift.type(of: body).messageType
    }

    /// The payload as its codec, so encoding needs one switch.
    var body: any PayloadCodable {
        switch self {
        case .hello(let m): m
        case .welcome(let m): m
        case .refused(let m): m
        case .goodbye(let m): m
        case .ack(let m): m
        case .error(let m): m
        case .heartbeat(let m): m
        case .heartbeatReply(let m): m
        case .transitions(let m): m
        case .transitionsAck(let m): m
        case .episodeStats(let m): m
        case .weightsRequest(let m): m
        case .weights(let m): m
        case .actionRequest(let m): m
        case .actionReply(let m): m
        }
    }

    static func read(_ type: MessageType, from reader: inout WireReader, limits: WireLimits)
        throws(WireError) -> Message {
        switch type {
        case .hello: .hello(try Hello.read(from: &reader, limits: limits))
        case .welcome: .welcome(try Welcome.read(from: &reader, limits: limits))
        case .refused: .refused(try Refused.read(from: &reader, limits: limits))
        case .goodbye: .goodbye(try Goodbye.read(from: &reader, limits: limits))
        case .ack: .ack(try Ack.read(from: &reader, limits: limits))
        case .error: .error(try ErrorReply.read(from: &reader, limits: limits))
        case .heartbeat: .heartbeat(try Heartbeat.read(from: &reader, limits: limits))
        case .heartbeatReply: .heartbeatReply(try HeartbeatReply.read(from: &reader, limits: limits))
        case .transitions: .transitions(try TransitionBatch.read(from: &reader, limits: limits))
        case .transitionsAck: .transitionsAck(try TransitionsAck.read(from: &reader, limits: limits))
        case .episodeStats: .episodeStats(try EpisodeStats.read(from: &reader, limits: limits))
        case .weightsRequest: .weightsRequest(try WeightsRequest.read(from: &reader, limits: limits))
        case .weights: .weights(try WeightsChunk.read(from: &reader, limits: limits))
        case .actionRequest: .actionRequest(try ActionRequest.read(from: &reader, limits: limits))
        case .actionReply: .actionReply(try ActionReply.read(from: &reader, limits: limits))
        }
    }
}

/// One record of a payload's extension tail (PROTOCOL.md section 8).
///
/// Version 1.0 defines no tags; records a receiver does not know are kept, so a proxy forwards
/// them and re-encoding reproduces the frame byte for byte.
public struct WireExtension: Equatable, Sendable {
    /// Per-message extension number, never 0.
    public var tag: UInt16
    public var value: [UInt8]

    public init(tag: UInt16, value: [UInt8]) {
        self.tag = tag
        self.value = value
    }
}

/// A message with its header fields: the unit nng carries as one message.
public struct Frame: Equatable, Sendable {
    public var message: Message
    /// Chosen by the requester; a reply carries the request's value.
    public var requestID: UInt32
    /// Frame flags; version 1.0 defines none (PROTOCOL.md 2.2).
    public var flags: UInt32
    /// The sender's minor version.
    public var minor: UInt8
    /// Extension records after the body that this codec does not know (kept, and re-encoded
    /// before the known ones, which travel as the message's own fields: `KnownExtensions.swift`).
    public var extensions: [WireExtension]

    public init(_ message: Message, requestID: UInt32 = 0, flags: UInt32 = 0, minor: UInt8 = WireV1.minor,
                extensions: [WireExtension] = []) {
        self.message = message
        self.requestID = requestID
        self.flags = flags
        self.minor = minor
        self.extensions = extensions
    }

    // MARK: - Encoding

    /// The frame's bytes, after checking the message against the rules a receiver with
    /// `limits` applies, so a peer never receives what this module would refuse.
    public func encode(limits: WireLimits = WireLimits()) throws(WireError) -> [UInt8] {
        let body = message.body
        try body.validate(limits: limits)
        if flags & WireV1.mustUnderstandFlags != 0 { throw .invalidValue(field: "header.flags", index: 0) }
        let extensions = self.extensions + Frame.knownRecords(of: message)
        try Check.count(extensions.count, limit: limits.maxExtensions, field: prefix + ".extensions")
        for extensionRecord in extensions where extensionRecord.tag == 0 {
            throw .invalidValue(field: prefix + ".extensions.tag", index: 0)
        }

        var writer = WireWriter(capacity: estimatedSize(tail: extensions.reduce(0) { $0 + 6 + $1.value.count }))
        writer.writeBytes(WireV1.magic)
        writer.writeUInt8(WireV1.major)
        writer.writeUInt8(minor)
        writer.writeUInt16LE(message.type.rawValue)
        writer.writeUInt32LE(flags)
        writer.writeUInt32LE(requestID)
        writer.writeUInt32LE(0)  // payload_length, patched below
        writer.writeUInt32LE(0)  // checksum, patched below
        body.write(to: &writer)
        for extensionRecord in extensions {
            writer.writeUInt16LE(extensionRecord.tag)
            writer.writeCount(extensionRecord.value.count)
            writer.writeBytes(extensionRecord.value)
        }

        let payloadLength = writer.writerIndex - WireV1.headerSize
        // The field is a u32 whatever the configured limit.
        try Check.count(payloadLength, limit: min(max(0, limits.maxFrameBytes - WireV1.headerSize), Int(UInt32.max)),
                        field: "header.payload_length")
        writer.setUInt32LE(UInt32(payloadLength), at: 16)
        writer.setUInt32LE(Self.checksum(writer.bytes), at: 20)
        return writer.bytes
    }

    private var prefix: String { message.type.fieldPrefix }

    /// Reserving the exact size for the big messages saves reallocations on the hot path.
    private func estimatedSize(tail: Int) -> Int {
        switch message {
        case .transitions(let batch): return WireV1.headerSize + batch.bodySize + tail
        case .weights(let chunk): return WireV1.headerSize + 64 + chunk.tensors.count * 64 + chunk.data.count + tail
        case .actionRequest(let request):
            return WireV1.headerSize + 16 + request.count * (14 + 4 * request.observationSize) + tail
        default: return 256 + tail
        }
    }

    /// CRC-32 of header bytes 0..<20 followed by the payload (the checksum field is skipped).
    static func checksum(_ frame: [UInt8]) -> UInt32 {
        let head = CRC32.checksum(frame, range: 0 ..< 20)
        return CRC32.checksum(frame, range: WireV1.headerSize ..< frame.count, continuing: head)
    }

    // MARK: - Decoding

    /// Decodes one frame (one nng message) in the order of PROTOCOL.md 2.1.
    ///
    /// A pure function of its input: no state, no partial results. Every length is checked
    /// against `limits` before anything is allocated for it.
    public static func decode(_ bytes: [UInt8], limits: WireLimits = WireLimits()) throws(WireError) -> Frame {
        let header = WireReader(bytes)
        guard bytes.count >= WireV1.headerSize else {
            throw .truncated(needed: WireV1.headerSize, available: bytes.count)
        }
        guard bytes[0 ..< 4].elementsEqual(WireV1.magic) else { throw .badMagic }
        let major = try header.getUInt8(at: 4)
        let minor = try header.getUInt8(at: 5)
        guard major == WireV1.major else { throw .unsupportedVersion(major: major, minor: minor) }
        let payloadLength = Int(try header.getUInt32LE(at: 16))
        try Check.count(payloadLength, limit: max(0, limits.maxFrameBytes - WireV1.headerSize),
                        field: "header.payload_length")
        let frameLength = WireV1.headerSize + payloadLength
        if bytes.count < frameLength { throw .truncated(needed: frameLength, available: bytes.count) }
        if bytes.count > frameLength {
            throw .malformed(field: "header.payload_length",
                             reason: "\(bytes.count - frameLength) bytes follow the payload")
        }
        let expected = try header.getUInt32LE(at: 20)
        let actual = checksum(bytes)
        guard expected == actual else { throw .badChecksum(expected: expected, actual: actual) }
        let flags = try header.getUInt32LE(at: 8)
        if flags & WireV1.mustUnderstandFlags != 0 { throw .invalidValue(field: "header.flags", index: 0) }
        let rawType = try header.getUInt16LE(at: FrameHeader.typeOffset)
        guard let type = MessageType(rawValue: rawType) else { throw .unknownMessageType(rawType) }

        var reader = WireReader(bytes, range: WireV1.headerSize ..< frameLength)
        var message = try Message.read(type, from: &reader, limits: limits)
        var extensions = try readExtensions(&reader, prefix: type.fieldPrefix, limits: limits)
        try absorbKnownRecords(into: &message, from: &extensions)
        return Frame(message, requestID: try header.getUInt32LE(at: FrameHeader.requestIDOffset), flags: flags, minor: minor,
                     extensions: extensions)
    }

    /// The extension tail: TLV records up to the end of the payload.
    private static func readExtensions(_ reader: inout WireReader, prefix: String, limits: WireLimits)
        throws(WireError) -> [WireExtension] {
        var records: [WireExtension] = []
        while reader.readableBytes > 0 {
            if records.count >= limits.maxExtensions {
                throw .lengthOverLimit(field: prefix + ".extensions", limit: limits.maxExtensions,
                                       claimed: UInt64(records.count + 1))
            }
            guard reader.readableBytes >= 6 else {
                throw .malformed(field: prefix + ".extensions", reason: "record header runs past the payload")
            }
            let tag = try reader.readUInt16LE()
            if tag == 0 { throw .invalidValue(field: prefix + ".extensions.tag", index: records.count) }
            let length = Int(try reader.readUInt32LE())
            guard length <= reader.readableBytes else {
                throw .malformed(field: prefix + ".extensions", reason: "record value runs past the payload")
            }
            records.append(WireExtension(tag: tag, value: try reader.readBytes(count: length)))
        }
        return records
    }
}
