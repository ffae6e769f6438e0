import Testing
@testable import Wire

/// Minor versions only add optional things, which a 1.0 reader skips; a different major is
/// refused before anything else is read (PROTOCOL.md section 9).
@Suite struct VersioningTests {
    // MARK: - Newer minor versions

    @Test func higherMinorWithExtensionsAndIgnorableFlagsIsAcceptedAndKept() throws {
        let bytes = try Vectors.bytes("hello_minor3_extensions")
        let frame = try Frame.decode(bytes)
        #expect(frame.minor == 3)
        #expect(frame.flags == 1 << 16)
        #expect(frame.extensions == [WireExtension(tag: 1, value: [1, 2, 3]), WireExtension(tag: 0x7F00, value: [])])
        // The message itself is exactly what a 1.0 sender would have sent.
        let plain = try Frame.decode(try Vectors.bytes("hello_actor"))
        #expect(frame.message == plain.message)
        #expect(try frame.encode() == bytes)
    }

    @Test func unknownTrailingExtensionsOnEveryMessageAreSkipped() throws {
        var rng = SeededGenerator(seed: 0xE7)
        for message in RandomMessages.all(&rng) {
            let records = [WireExtension(tag: 0x0101, value: rng.bytes(rng.int(0 ... 40))),
                           WireExtension(tag: 0xFFFF, value: rng.bytes(3))]
            let extended = Frame(message, minor: 7, extensions: records)
            let decoded = try Frame.decode(try extended.encode())
            #expect(decoded.message == message, "\(message.type)")
            #expect(decoded.extensions == records)
        }
    }

    @Test func tooManyExtensionsAreRefused() throws {
        var limits = WireLimits()
        limits.maxExtensions = 2
        let records = (1 ... 3).map { WireExtension(tag: UInt16($0), value: []) }
        let bytes = try Frame(.ack(Ack(ackedType: .goodbye)), extensions: records).encode()
        #expect(wireError { () throws(WireError) in try Frame.decode(bytes, limits: limits) }?.code == .lengthOverLimit)
    }

    @Test func anExtensionValueRunningPastThePayloadIsMalformed() throws {
        let bytes = try Frame(.ack(Ack(ackedType: .goodbye))).encode() + [0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0xAA]
        #expect(wireError { () throws(WireError) in try Frame.decode(reseal(bytes)) }
            == .malformed(field: "ack.extensions", reason: "record value runs past the payload"))
    }

    // MARK: - Other majors and must-understand flags

    @Test func anotherMajorIsRefusedBeforeAnythingElse() throws {
        for major: UInt8 in [0, 2, 255] {
            var bytes = try Vectors.bytes("transitions_hopper")
            bytes[4] = major
            bytes[30] ^= 0xFF  // even with a broken payload and checksum, the version is reported
            #expect(wireError { () throws(WireError) in try Frame.decode(bytes) }
                == .unsupportedVersion(major: major, minor: 0))
        }
    }

    @Test func unknownMustUnderstandFlagsAreRefusedOnBothSides() throws {
        let frame = Frame(.ack(Ack(ackedType: .goodbye)), flags: 1 << 15)
        #expect(wireError { () throws(WireError) in try frame.encode() } == .invalidValue(field: "header.flags", index: 0))
    }
}
