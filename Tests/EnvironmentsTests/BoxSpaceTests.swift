import Testing
import Environments

@Suite struct BoxSpaceTests {
    // MARK: - Built-in spaces match gymnasium

    @Test func pendulumSpaces() {
        let pendulum = Pendulum()
        #expect(pendulum.observationSpace == BoxSpace(shape: [3], low: [-1, -1, -8], high: [1, 1, 8]))
        #expect(pendulum.actionSpace == BoxSpace(shape: [1], low: [-2], high: [2]))
    }

    @Test func mountainCarSpaces() {
        let car = MountainCarContinuous()
        #expect(car.observationSpace == BoxSpace(shape: [2], low: [-1.2, -0.07], high: [0.6, 0.07]))
        #expect(car.actionSpace == BoxSpace(shape: [1], low: [-1], high: [1]))
    }

    @Test func multiGoalSpaces() {
        let toy = MultiGoal()
        #expect(toy.observationSpace == BoxSpace(shape: [2], low: [-7, -7], high: [7, 7]))
        #expect(toy.actionSpace == BoxSpace(shape: [2], low: [-1, -1], high: [1, 1]))
    }

    // MARK: - Membership and clipping

    @Test func containsChecksEveryComponentAndTheCount() {
        let box = BoxSpace(shape: [2], low: [-1, 0], high: [1, 5])
        #expect(box.contains([-1, 5]))
        #expect(!box.contains([-1.01, 1]))
        #expect(!box.contains([0, 5.5]))
        #expect(!box.contains([0]))
        #expect(box.count == 2)
    }

    @Test func clipMovesOutsideComponentsToTheBounds() {
        let box = BoxSpace(shape: [3], low: [-1, 0, 2], high: [1, 5, 3])
        #expect(box.clip([-4, 2.5, 9]) == [-1, 2.5, 3])
    }

    // MARK: - Affine rescaling from [-1, 1]

    @Test func scaleMapsTheUnitBoxOntoTheBounds() {
        let box = BoxSpace(shape: [2], low: [-2, 0], high: [2, 10])
        #expect(box.scale(fromUnit: [-1, -1]) == [-2, 0])
        #expect(box.scale(fromUnit: [1, 1]) == [2, 10])
        #expect(box.scale(fromUnit: [0, 0]) == [0, 5])
        #expect(box.scale(fromUnit: [0.5, -0.5]) == [1, 2.5])
    }

    @Test func scaleClipsActionsOutsideTheUnitBox() {
        let box = BoxSpace(shape: [2], low: [-2, 0], high: [2, 10])
        #expect(box.scale(fromUnit: [1.5, -3]) == [2, 0])
    }

    @Test func unitInvertsScale() {
        let box = BoxSpace(shape: [2], low: [-2, 0], high: [2, 10])
        for unit: [Float] in [[-1, 1], [0.25, -0.75], [0, 0.5]] {
            let back = box.unit(fromScaled: box.scale(fromUnit: unit))
            for (a, b) in zip(back, unit) { #expect(abs(a - b) < 1e-6) }
        }
        #expect(box.unitBox == BoxSpace(shape: [2], low: -1, high: 1))
    }
}
