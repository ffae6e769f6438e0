import Foundation
import Testing
@testable import Autodiff

// MARK: - Recording

@Test func inferenceTapeRecordsNothing() {
    let tape = Tape<Float>(recording: false)
    let w = tape.parameter(Tensor(rows: 2, cols: 2, [1, 2, 3, 4]), gradient: Tensor(zeros: 2, 2))
    let y = tape.tanh(tape.linear(tape.constant(Tensor(rows: 1, cols: 2, [1, 1])), weight: w, bias: nil))
    #expect(tape.nodeCount == 0)
    #expect(!y.requiresGradient)
    #expect(abs(y.value[0, 0] - Float(Foundation.tanh(3.0))) < 1e-6)
}

@Test func gemmFLOPsCountForwardAndBackwardUntilReset() {
    let tape = Tape<Double>()
    let x = tape.parameter(Tensor(repeating: 1, rows: 4, cols: 3))
    let w = tape.parameter(Tensor(repeating: 1, rows: 5, cols: 3))
    let y = tape.linear(x, weight: w, bias: nil)
    #expect(tape.gemmFLOPs == 2 * 4 * 5 * 3)
    tape.backward(from: tape.sum(y))  // dx = g W and dW = gᵀ x: the same count each
    #expect(tape.gemmFLOPs == 3 * 2 * 4 * 5 * 3)
    tape.reset()
    #expect(tape.gemmFLOPs == 0)
}

@Test func constantsDoNotRecord() {
    let tape = Tape<Double>()
    let c = tape.constant(Tensor(rows: 1, cols: 3, [1, 2, 3]))
    _ = tape.exp(tape.add(c, c))
    #expect(tape.nodeCount == 0)
}

@Test func gradientsAccumulateIntoParameterBuffers() {
    let tape = Tape<Double>()
    let sink = Tensor<Double>(zeros: 1, 3)
    let p = tape.parameter(Tensor(rows: 1, cols: 3, [1, 2, 3]), gradient: sink)
    // Two uses: d/dp sum(p * p + p) = 2p + 1.
    tape.backward(from: tape.sum(tape.add(tape.multiply(p, p), p)))
    #expect(sink.scalars == [3, 5, 7])
}

@Test func resetRecyclesWorkspaceWithoutChangingResults() {
    let tape = Tape<Float>()
    let x = Tensor<Float>(rows: 2, cols: 3, [1, 2, 3, 4, 5, 6])
    var results: [[Float]] = []
    for _ in 0..<3 {
        tape.reset()
        let sink = Tensor<Float>(zeros: 2, 3)
        let v = tape.parameter(x, gradient: sink)
        tape.backward(from: tape.mean(tape.square(v)))
        results.append(sink.scalars)
    }
    #expect(results[0] == results[1] && results[1] == results[2])
    #expect(zip(results[0], x.scalars).allSatisfy { abs($0 - 2 * $1 / 6) < 1e-6 })
}


