import Learning
import Replay
import Simulators
import Wire

/// A ledger for Pendulum's spaces with small, explicit limits.
func makeLedger(token: [UInt8]? = nil, maxActors: Int = 4, maxStaleness: Int? = nil, queueCapacity: Int = 1000,
                totalSteps: Int? = nil, limiter: RateLimiter = .sampleToInsertRatio(
                    samplesPerInsert: 4, minSizeToSample: 8, errorBuffer: 40)) throws -> IngestLedger {
    let welcome = Welcome(learnerRunID: 0, policyVersion: 0, warmupTransitions: 8, batchHint: 4, maxBatch: 16,
                          uploadIntervalMs: 100, weightsChunkBytes: 1 << 20, weightsRefreshSteps: 10,
                          heartbeatIntervalMs: 1000, maxFrameBytes: 1 << 24, envID: "", preset: "pendulum")
    let settings = IngestSettings(token: token, maxActors: maxActors, maxStaleness: maxStaleness,
                                  queueCapacity: queueCapacity, maxBatch: 16, totalSteps: totalSteps, batchSize: 4,
                                  welcome: welcome)
    return IngestLedger(settings: settings, spec: try EnvironmentSpec.resolve("pendulum"), limiter: limiter,
                        learnerRunID: 42)
}

let pendulumObservation = Space(shape: [3], low: [-1, -1, -8], high: [1, 1, 8])
let pendulumAction = Space(shape: [1], low: -2, high: 2)

func hello(actor: UInt32 = 1, run: UInt64 = 10, token: [UInt8] = [], observation: Space = pendulumObservation,
           role: Role = .actor) -> Hello {
    Hello(role: role, actorID: actor, runID: run, clientName: "test", clientVersion: "0", authToken: token,
          envID: "Pendulum-v1", observationSpace: observation, actionSpace: pendulumAction)
}

func batch(actor: UInt32 = 1, run: UInt64 = 10, seq: UInt64, count: Int = 4, version: UInt64 = 0,
           observationSize: Int = 3) -> Wire.TransitionBatch {
    Wire.TransitionBatch(
        actorID: actor, runID: run, seq: seq, policyVersion: version, observationSize: observationSize, actionSize: 1,
        episodeIDs: Array(repeating: 0, count: count), stepIndices: (0 ..< UInt32(count)).map { $0 },
        observations: Array(repeating: 0.5, count: count * observationSize),
        nextObservations: Array(repeating: 0.25, count: count * observationSize),
        actions: Array(repeating: 0.1, count: count), rewards: Array(repeating: -1, count: count),
        doneFlags: Array(repeating: 0, count: count))
}

extension Message {
    var ackStatus: TransitionsStatus? {
        if case .transitionsAck(let ack) = self { return ack.status }
        return nil
    }

    var errorCode: ErrorCode? {
        switch self {
        case .error(let error): error.code
        case .refused(let refused): refused.code
        default: nil
        }
    }

    var isWelcome: Bool {
        if case .welcome = self { return true }
        return false
    }
}

/// The ledger behind a reference, so mutating calls can sit inside `#expect`.
@dynamicMemberLookup
final class LedgerBox {
    var value: IngestLedger

    init(_ value: IngestLedger) { self.value = value }

    subscript<T>(dynamicMember keyPath: KeyPath<IngestLedger, T>) -> T { value[keyPath: keyPath] }

    func hello(_ hello: Hello, now: ContinuousClock.Instant) -> Message { value.hello(hello, now: now) }
    func transitions(_ batch: Wire.TransitionBatch, now: ContinuousClock.Instant)
        -> (reply: Message, outcome: IngestOutcome) { value.transitions(batch, now: now) }
    func heartbeat(_ beat: Heartbeat, now: ContinuousClock.Instant) -> Message { value.heartbeat(beat, now: now) }
    func forgetSilentPeers(now: ContinuousClock.Instant, timeout: Duration) -> [PeerKey] {
        value.forgetSilentPeers(now: now, timeout: timeout)
    }
    func drain() -> [Wire.TransitionBatch] { value.drain() }
    func recordInserted(_ n: Int, overwritten: Int, replaySize: Int) {
        value.recordInserted(n, overwritten: overwritten, replaySize: replaySize)
    }
    func reserveSample() -> Bool { value.reserveSample() }
    func restore(_ counters: LedgerCounters) { value.restore(counters) }
    func restoreReplay(count: Int) { value.restoreReplay(count: count) }
    func beginShutdown(_ mode: ShutdownMode) { value.beginShutdown(mode) }
    func recordSeen(_ key: PeerKey, seq: UInt64) { value.recordSeen(key, seq: seq) }
    func recordTraining(policyVersion: UInt64) {
        value.recordTraining(policyVersion: policyVersion, updates: 0, skippedUpdates: 0)
    }
}
