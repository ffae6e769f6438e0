import Testing
@testable import Wire

/// nng hands over whole messages, so a short frame is a framing bug or an attack; either way it
/// must be refused as `.truncated` and as nothing else (PROTOCOL.md 2.1).
@Suite struct TruncationTests {
    // MARK: - Strict prefixes

    @Test func everyStrictPrefixOfEveryVectorIsTruncated() throws {
        var checked = 0
        for (name, bytes) in try Vectors.validFrames() {
            for length in 0 ..< bytes.count {
                let error = wireError { () throws(WireError) in try Frame.decode(Array(bytes[0 ..< length])) }
                guard case .truncated? = error else {
                    Issue.record("\(name) cut to \(length) bytes gave \(String(describing: error))")
                    return
                }
                checked += 1
            }
        }
        #expect(checked > 2000)
    }

    @Test func everyStrictPrefixOfRandomFramesIsTruncated() throws {
        var rng = SeededGenerator(seed: 0x7A11)
        for _ in 0 ..< 5 {
            for message in RandomMessages.all(&rng) {
                let bytes = try Frame(message).encode()
                for length in 0 ..< bytes.count {
                    let error = wireError { () throws(WireError) in try Frame.decode(Array(bytes[0 ..< length])) }
                    guard case .truncated? = error else {
                        Issue.record("\(message.type) cut to \(length) gave \(String(describing: error))")
                        return
                    }
                }
            }
        }
    }

    @Test func truncationReportsWhatWasNeeded() throws {
        let bytes = try Vectors.bytes("transitions_hopper")
        #expect(wireError { () throws(WireError) in try Frame.decode(Array(bytes[0 ..< 10])) }
            == .truncated(needed: 24, available: 10))
        #expect(wireError { () throws(WireError) in try Frame.decode(Array(bytes.dropLast(3))) }
            == .truncated(needed: bytes.count, available: bytes.count - 3))
    }

    // MARK: - Inner lengths

    @Test func aColumnLongerThanThePayloadIsTruncatedNotACrash() throws {
        // count = 9 in a 4-transition batch, re-sealed so the header and CRC agree.
        var bytes = try Vectors.bytes("transitions_hopper")
        bytes[WireV1.headerSize + 4] = 9
        let error = wireError { () throws(WireError) in try Frame.decode(reseal(bytes)) }
        #expect(error?.code == .truncated)
    }
}
