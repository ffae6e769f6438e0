import Testing
@testable import Wire

@Suite struct RoundTripTests {
    // MARK: - Every message, random contents

    @Test func everyMessageTypeIsCovered() {
        var rng = SeededGenerator(seed: 1)
        let covered = Set(RandomMessages.all(&rng).map(\.type))
        #expect(covered == Set(MessageType.allCases))
    }

    @Test func randomMessagesRoundTrip() throws {
        var rng = SeededGenerator(seed: 0x5EED)
        for round in 0 ..< 200 {
            for message in RandomMessages.all(&rng) {
                let frame = Frame(message, requestID: rng.word(), flags: UInt32(rng.int(0 ... 3)) << 16)
                let bytes = try frame.encode()
                let decoded = try Frame.decode(bytes)
                #expect(decoded == frame, "round \(round): \(message.type)")
                #expect(try decoded.encode() == bytes)
            }
        }
    }

    @Test func headerFieldsLandWhereTheSpecSays() throws {
        let frame = Frame(.ack(Ack(ackedType: .goodbye)), requestID: 0xA1B2_C3D4, flags: 0x0001_0000)
        let bytes = try frame.encode()
        #expect(Array(bytes[0 ..< 4]) == Array("MEOW".utf8))
        #expect(bytes[4] == 1 && bytes[5] == 0)
        #expect(Array(bytes[6 ..< 8]) == [0x05, 0x00])
        #expect(Array(bytes[8 ..< 12]) == [0x00, 0x00, 0x01, 0x00])
        #expect(Array(bytes[12 ..< 16]) == [0xD4, 0xC3, 0xB2, 0xA1])
        #expect(Array(bytes[16 ..< 20]) == [0x02, 0x00, 0x00, 0x00])
        #expect(Array(bytes[24...]) == [0x04, 0x00])
        #expect(bytes.count == 26)
    }

    // MARK: - Encoding refuses what decoding would refuse

    @Test func encodingANaNRewardNamesTheField() {
        var rng = SeededGenerator(seed: 3)
        var batch = RandomMessages.transitions(&rng, count: 5)
        batch.rewards[3] = .nan
        let error = wireError { () throws(WireError) in try Frame(.transitions(batch)).encode() }
        #expect(error == .nonFinite(field: "transitions.rewards", index: 3))
    }

    @Test func encodingAnActionOutsideTheUnitIntervalIsRefused() {
        var rng = SeededGenerator(seed: 4)
        var batch = RandomMessages.transitions(&rng, count: 2, actionSize: 3)
        batch.actions[4] = -1.0001
        let error = wireError { () throws(WireError) in try Frame(.transitions(batch)).encode() }
        #expect(error == .invalidValue(field: "transitions.actions", index: 4))
    }

    @Test func encodingAnInfiniteSpaceBoundIsRefused() {
        var rng = SeededGenerator(seed: 5)
        guard case .hello(var hello) = RandomMessages.all(&rng)[0] else { return }
        hello.observationSpace = Space(shape: [2], low: [-.infinity, 0], high: [1, 1])
        let error = wireError { () throws(WireError) in try Frame(.hello(hello)).encode() }
        #expect(error == .nonFinite(field: "hello.observation_space.low", index: 0))
    }

    @Test func encodingColumnsOfTheWrongLengthIsRefused() {
        var rng = SeededGenerator(seed: 6)
        var batch = RandomMessages.transitions(&rng, count: 4, observationSize: 3)
        batch.nextObservations.removeLast()
        let error = wireError { () throws(WireError) in try Frame(.transitions(batch)).encode() }
        #expect(error?.code == .malformed)
        #expect(error?.field == "transitions.next_observations")
    }
}
