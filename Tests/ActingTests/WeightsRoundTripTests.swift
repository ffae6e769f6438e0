import Acting
import Learning
import MEow
import Testing
import Wire

@Suite struct WeightsRoundTripTests {
    let tensors = [
        NamedTensor(name: "policy.a", shape: [3, 400], values: (0 ..< 1200).map { Float($0) * 0.5 }),
        NamedTensor(name: "policy.b", shape: [7], values: (0 ..< 7).map { -Float($0) }),
        NamedTensor(name: "policy.empty", shape: [0], values: []),
    ]

    func fetch(_ publisher: WeightsPublisher, held: UInt64) throws -> (UInt64, [NamedTensor])? {
        guard case .weights(let first) = publisher.reply(to: WeightsRequest(heldVersion: held, onlyIfNewer: true)) else {
            Issue.record("expected WEIGHTS")
            return nil
        }
        if first.chunkCount == 0 { return nil }
        var assembler = try WeightsAssembler(first: first)
        while let index = assembler.nextChunkIndex {
            let request = WeightsRequest(heldVersion: held, fetchVersion: first.version, chunkIndex: index,
                                         onlyIfNewer: false)
            guard case .weights(let chunk) = publisher.reply(to: request) else {
                Issue.record("expected chunk \(index)")
                return nil
            }
            // Every chunk survives the codec, as it would on the wire.
            let frame = try Frame.decode(try Frame(.weights(chunk)).encode())
            guard case .weights(let decoded) = frame.message else { return nil }
            try assembler.add(decoded)
        }
        return (assembler.version, try assembler.tensors())
    }

    @Test func chunkedWeightsArriveIntact() throws {
        let publisher = WeightsPublisher(chunkBytes: 1024)
        publisher.publish(version: 3, tensors: tensors)
        let fetched = try fetch(publisher, held: 0)
        #expect(fetched?.0 == 3)
        #expect(fetched?.1 == tensors)
    }

    @Test func onlyNewerVersionsAreSent() throws {
        let publisher = WeightsPublisher(chunkBytes: 4096)
        publisher.publish(version: 3, tensors: tensors)
        #expect(try fetch(publisher, held: 3) == nil)
        publisher.publish(version: 4, tensors: tensors)
        #expect(try fetch(publisher, held: 3)?.0 == 4)
    }

    @Test func aVersionNoLongerKeptIsStale() {
        let publisher = WeightsPublisher(chunkBytes: 1024)
        publisher.publish(version: 1, tensors: tensors)
        _ = publisher.reply(to: WeightsRequest(heldVersion: 0, onlyIfNewer: true))
        publisher.publish(version: 2, tensors: tensors)
        _ = publisher.reply(to: WeightsRequest(heldVersion: 0, onlyIfNewer: true))
        publisher.publish(version: 3, tensors: tensors)
        _ = publisher.reply(to: WeightsRequest(heldVersion: 0, onlyIfNewer: true))
        let reply = publisher.reply(to: WeightsRequest(heldVersion: 0, fetchVersion: 1, chunkIndex: 1, onlyIfNewer: false))
        guard case .error(let error) = reply else {
            Issue.record("expected ERROR")
            return
        }
        #expect(error.code == .staleVersion)
    }

    @Test func chunksOfAnotherVersionAreRefused() throws {
        let chunks = (1 ... 2).map { version -> [WeightsChunk] in
            let publisher = WeightsPublisher(chunkBytes: 1024)
            publisher.publish(version: UInt64(version), tensors: tensors)
            return (0 ..< 5).compactMap { index in
                if case .weights(let chunk) = publisher.reply(to: WeightsRequest(
                    heldVersion: 0, fetchVersion: UInt64(version), chunkIndex: UInt32(index), onlyIfNewer: false)) {
                    return chunk
                }
                return nil
            }
        }
        var assembler = try WeightsAssembler(first: chunks[0][0])
        #expect(throws: WeightsAssemblyError.self) { try assembler.add(chunks[1][1]) }
        #expect(throws: WeightsAssemblyError.self) { try assembler.tensors() }
    }
}
