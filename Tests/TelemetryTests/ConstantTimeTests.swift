import Testing
@testable import Telemetry

struct ConstantTimeTests {
    @Test func comparisonMatchesEquality() {
        let cases: [([UInt8], [UInt8])] = [([], []), ([1], []), ([1, 2], [1, 2]), ([1, 2], [1, 3]), ([1, 2], [1, 2, 0])]
        for (a, b) in cases { #expect(ConstantTime.equal(a, b) == (a == b)) }
    }
}
