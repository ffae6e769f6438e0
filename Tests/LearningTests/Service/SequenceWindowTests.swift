import Learning
import Testing

@Suite struct SequenceWindowTests {
    @Test func inOrderNumbersCompactIntoTheFloor() {
        var window = SequenceWindow()
        for seq in 0 ..< UInt64(100) {
            let inserted = window.insert(seq)
            #expect(inserted)
        }
        #expect(window.floor == 100 && window.above.isEmpty)
        let again = window.insert(42)
        #expect(!again)
    }

    @Test func outOfOrderNumbersAreRememberedUntilTheGapCloses() {
        var window = SequenceWindow()
        let two = window.insert(2), one = window.insert(1)
        #expect(two && one)
        #expect(window.floor == 0 && window.contains(2) && !window.contains(0))
        let zero = window.insert(0)
        #expect(zero)
        #expect(window.floor == 3 && window.above.isEmpty)
    }

    @Test func aLongGapMovesTheFloorUpToBoundMemory() {
        var window = SequenceWindow(limit: 4)
        for seq in UInt64(10) ..< 15 { window.insert(seq) }
        #expect(window.floor == 15)
        #expect(window.contains(3))
    }
}
