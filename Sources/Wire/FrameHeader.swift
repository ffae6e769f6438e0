/// Header fields of a frame that did not decode, so its ERROR can still name them.
///
/// The offsets are the ones `Frame.decode` reads (PROTOCOL.md 2), through the same `WireReader`
/// peeks: a short or foreign frame gives 0, never a trap.
public enum FrameHeader {
    /// Offset of the message type (u16), of the request id (u32).
    static let typeOffset = 6
    static let requestIDOffset = 12

    /// The message type of a frame whose header is readable, else 0 (PROTOCOL.md 6).
    public static func type(of bytes: [UInt8]) -> UInt16 {
        guard bytes.count >= 4, bytes[0 ..< 4].elementsEqual(WireV1.magic) else { return 0 }
        return (try? WireReader(bytes).getUInt16LE(at: typeOffset)) ?? 0
    }

    /// The request id of a frame with a whole header, else 0.
    public static func requestID(of bytes: [UInt8]) -> UInt32 {
        guard bytes.count >= WireV1.headerSize else { return 0 }
        return (try? WireReader(bytes).getUInt32LE(at: requestIDOffset)) ?? 0
    }
}

extension Frame {
    /// The bytes of a server's reply: `message` framed with `requestID`, or, should that fail
    /// (only a bug makes a reply unencodable), an ERROR INTERNAL that says so rather than
    /// leaving the peer waiting. `server` names who answers ("learner", "gateway").
    public static func replyBytes(_ message: Message, requestID: UInt32, extensions: [WireExtension] = [],
                                  limits: WireLimits, server: String) -> [UInt8] {
        if let bytes = try? Frame(message, requestID: requestID, extensions: extensions).encode(limits: limits) {
            return bytes
        }
        let fallback = ErrorReply(code: .internal, failedType: message.type.rawValue,
                                  text: "the \(server) could not encode its reply")
        return (try? Frame(.error(fallback), requestID: requestID).encode(limits: limits)) ?? []
    }

    /// The reply to a frame that did not decode: ERROR with the decoder's code and field, naming
    /// the frame's type and request id where its header is readable.
    public static func replyBytes(undecodable bytes: [UInt8], error: WireError, limits: WireLimits,
                                  server: String) -> [UInt8] {
        replyBytes(.error(ErrorReply(error, failedType: FrameHeader.type(of: bytes))),
                   requestID: FrameHeader.requestID(of: bytes), limits: limits, server: server)
    }
}
