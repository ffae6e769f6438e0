// INTERIM (wip-dist): the agent branch defines NamedTensor in PolicyWeights.swift with this exact
// shape (AGENT_CONTRACT.md). This file exists only so the distributed modules compile before that
// branch is merged; delete it at the merge.

/// One named float32 tensor, as it travels in WEIGHTS messages and safetensors files.
public struct NamedTensor: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var values: [Float]

    public init(name: String, shape: [Int], values: [Float]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}
