import Testing
import Wire

/// `FrameHeader` and `Frame.replyBytes`: what a server answers when a frame does not decode, or
/// its reply does not encode.
@Suite struct FrameHeaderTests {
    // MARK: - Header fields of undecodable frames

    @Test func aReadableHeaderGivesItsTypeAndRequestIDEvenWhenThePayloadIsBroken() throws {
        var bytes = try Frame(.goodbye(Goodbye(reason: .done)), requestID: 0xA1B2_C3D4).encode()
        bytes[bytes.count - 1] ^= 0xFF
        #expect(throws: WireError.self) { try Frame.decode(bytes) }
        #expect(FrameHeader.type(of: bytes) == MessageType.goodbye.rawValue)
        #expect(FrameHeader.requestID(of: bytes) == 0xA1B2_C3D4)
    }

    @Test func shortOrForeignBytesGiveZero() throws {
        let bytes = try Frame(.goodbye(Goodbye(reason: .done)), requestID: 7).encode()
        #expect(FrameHeader.type(of: Array(bytes.prefix(7))) == 0)
        #expect(FrameHeader.requestID(of: Array(bytes.prefix(15))) == 0)
        var foreign = bytes
        foreign[0] ^= 0xFF
        #expect(FrameHeader.type(of: foreign) == 0)
        #expect(FrameHeader.type(of: []) == 0 && FrameHeader.requestID(of: []) == 0)
    }

    // MARK: - Replies

    @Test func anUndecodableFrameIsAnsweredWithErrorUnderItsRequestID() throws {
        var bytes = try Frame(.goodbye(Goodbye(reason: .done)), requestID: 42).encode()
        bytes[bytes.count - 1] ^= 0xFF
        let error = try #require(throws: WireError.self) { try Frame.decode(bytes) }
        let reply = try Frame.decode(Frame.replyBytes(undecodable: bytes, error: error, limits: WireLimits(),
                                                      server: "learner"))
        #expect(reply.requestID == 42)
        guard case .error(let answer) = reply.message else {
            Issue.record("expected ERROR, got \(reply.message)")
            return
        }
        #expect(answer.failedType == MessageType.goodbye.rawValue)
    }

    @Test func aReplyTooLargeToEncodeBecomesErrorInternalNamingTheServer() throws {
        var limits = WireLimits()
        limits.maxFrameBytes = 128
        let large = Message.error(ErrorReply(code: .tryLater, text: String(repeating: "x", count: 500)))
        let reply = try Frame.decode(Frame.replyBytes(large, requestID: 9, limits: limits, server: "gateway"),
                                     limits: limits)
        guard case .error(let answer) = reply.message else {
            Issue.record("expected ERROR, got \(reply.message)")
            return
        }
        #expect(reply.requestID == 9 && answer.code == .internal && answer.text.contains("the gateway"))
    }
}
