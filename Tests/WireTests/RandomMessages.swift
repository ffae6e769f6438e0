@testable import Wire

/// Random but valid messages of every type, for round trips, truncation and fuzz seeds.
enum RandomMessages {
    static func space(_ rng: inout SeededGenerator, maxElements: Int) -> Space {
        let rank = rng.int(0 ... 3)
        var shape: [Int] = []
        var remaining = maxElements
        for _ in 0 ..< rank {
            let dimension = rng.int(1 ... max(1, min(6, remaining)))
            shape.append(dimension)
            remaining = max(1, remaining / dimension)
        }
        let count = Check.product(shape) ?? 1
        let low = rng.floats(count, in: -10 ... 0)
        let high = low.map { $0 + Float.random(in: 0 ... 10, using: &rng) }
        return Space(shape: shape, low: low, high: high)
    }

    static func transitions(_ rng: inout SeededGenerator, count: Int? = nil, observationSize: Int? = nil,
                            actionSize: Int? = nil) -> TransitionBatch {
        let n = count ?? rng.int(0 ... 40)
        let d_o = observationSize ?? rng.int(1 ... 20)
        let d_a = actionSize ?? rng.int(1 ... 6)
        return TransitionBatch(
            actorID: rng.word(), runID: rng.word(), seq: rng.word(), policyVersion: rng.word(),
            observationSize: d_o, actionSize: d_a,
            episodeIDs: (0 ..< n).map { _ in rng.word() }, stepIndices: (0 ..< n).map { _ in rng.word() },
            observations: rng.floats(n * d_o), nextObservations: rng.floats(n * d_o),
            actions: rng.floats(n * d_a, in: -1 ... 1), rewards: rng.floats(n, in: -100 ... 100),
            doneFlags: (0 ..< n).map { _ in UInt8(rng.int(0 ... 3)) })
    }

    /// One message of each type, with random contents.
    static func all(_ rng: inout SeededGenerator) -> [Message] {
        let roles = Role.allCases
        let hello = Hello(
            role: roles[rng.int(0 ... roles.count - 1)],
            minVersion: ProtocolVersion(major: 1, minor: UInt8(rng.int(0 ... 2))),
            maxVersion: ProtocolVersion(major: 1, minor: UInt8(rng.int(3 ... 9))),
            capabilities: Capabilities(rawValue: rng.word()), actorID: rng.word(), runID: rng.word(),
            clientName: rng.text(), clientVersion: rng.text(maxLength: 8), authToken: rng.bytes(rng.int(0 ... 32)),
            envID: rng.text(), observationSpace: space(&rng, maxElements: 64), actionSpace: space(&rng, maxElements: 8))
        let welcome = Welcome(
            version: ProtocolVersion(major: 1, minor: UInt8(rng.int(0 ... 3))),
            capabilities: Capabilities(rawValue: rng.word()), learnerRunID: rng.word(), policyVersion: rng.word(),
            warmupTransitions: rng.word(), batchHint: rng.word(), maxBatch: rng.word(), uploadIntervalMs: rng.word(),
            weightsChunkBytes: rng.word(), weightsRefreshSteps: rng.word(), heartbeatIntervalMs: rng.word(),
            maxFrameBytes: rng.word(), envID: rng.text(), preset: rng.text())
        let codes = ErrorCode.allCases
        let n = rng.int(0 ... 12)
        let blobSize = rng.int(64 ... 300)
        let tensorCount = rng.int(0 ... 5)
        let tensors = (0 ..< tensorCount).map { _ in
            TensorEntry(name: rng.text(), dtype: DType.allCases[rng.int(0 ... DType.allCases.count - 1)],
                        shape: (0 ..< rng.int(0 ... 3)).map { _ in rng.int(0 ... 2) },
                        offset: UInt64(rng.int(0 ... max(0, blobSize - 64))))
        }
        let dataStart = rng.int(0 ... blobSize)
        let rows = rng.int(0 ... 9)
        let d_o = rng.int(1 ... 17)
        let d_a = rng.int(1 ... 6)
        return [
            .hello(hello),
            .welcome(welcome),
            .refused(Refused(code: codes[rng.int(0 ... codes.count - 1)], retryAfterMs: rng.word(),
                             minVersion: ProtocolVersion(major: 1, minor: 0),
                             maxVersion: ProtocolVersion(major: rng.word(), minor: rng.word()), text: rng.text())),
            .goodbye(Goodbye(reason: GoodbyeReason.allCases[rng.int(0 ... 3)], text: rng.text())),
            .ack(Ack(ackedType: MessageType.allCases[rng.int(0 ... MessageType.allCases.count - 1)])),
            .error(ErrorReply(code: codes[rng.int(0 ... codes.count - 1)], failedType: rng.word(),
                              retryAfterMs: rng.word(), text: rng.text(maxLength: 200))),
            .heartbeat(Heartbeat(actorID: rng.word(), queueLength: rng.word(), runID: rng.word(),
                                 policyVersion: rng.word(), envSteps: rng.word(), episodes: rng.word(),
                                 batchesSent: rng.word(), batchesAcked: rng.word(), transitionsDropped: rng.word())),
            .heartbeatReply(HeartbeatReply(learnerRunID: rng.word(), policyVersion: rng.word(), updates: rng.word(),
                                           replaySize: rng.word())),
            .transitions(transitions(&rng)),
            .transitionsAck(TransitionsAck(seq: rng.word(), policyVersion: rng.word(), retryAfterMs: rng.word(),
                                           status: TransitionsStatus.allCases[rng.int(0 ... 2)])),
            .episodeStats(EpisodeStats(actorID: rng.word(), runID: rng.word(), episodes: (0 ..< n).map { _ in
                EpisodeSummary(episodeID: rng.word(), seed: rng.word(),
                               episodeReturn: Double.random(in: -1e4 ... 1e4, using: &rng),
                               seconds: Double.random(in: 0 ... 1e3, using: &rng), length: rng.word())
            })),
            .weightsRequest(WeightsRequest(heldVersion: rng.word(), fetchVersion: rng.word(), chunkIndex: rng.word(),
                                           onlyIfNewer: rng.int(0 ... 1) == 1)),
            .weights(WeightsChunk(version: rng.word(), totalBytes: UInt64(blobSize), chunkOffset: UInt64(dataStart),
                                  chunkIndex: 0, chunkCount: UInt32(rng.int(1 ... 4)), tensors: tensors,
                                  data: rng.bytes(rng.int(0 ... blobSize - dataStart)))),
            .weights(WeightsChunk.unchanged(version: rng.word())),
            .actionRequest(ActionRequest(
                deterministic: rng.int(0 ... 1) == 1, wantValues: rng.int(0 ... 1) == 1, observationSize: d_o,
                actionSize: d_a, episodeIDs: (0 ..< rows).map { _ in rng.word() }, observations: rng.floats(rows * d_o),
                previousRewards: rng.floats(rows), events: (0 ..< rows).map { _ in ActionEvent.allCases[rng.int(0 ... 2)] },
                previousDoneFlags: (0 ..< rows).map { _ in UInt8(rng.int(0 ... 3)) })),
            .actionReply(ActionReply(policyVersion: rng.word(), actionSize: d_a, actions: rng.floats(rows * d_a, in: -1 ... 1),
                                     values: rng.int(0 ... 1) == 1 ? rng.floats(rows, in: -50 ... 50) : nil)),
        ]
    }
}
