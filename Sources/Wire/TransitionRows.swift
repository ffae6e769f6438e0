/// Transitions as rows of float32 `observation, action, reward, next observation`: the layout of
/// the debugging files `meow-actor --acked-log` and `meow-learner --dump-replay`, which tests
/// compare row by row.
public enum TransitionRows {
    public static func interleave(count: Int, observationSize o: Int, actionSize a: Int, observations: [Float],
                                  actions: [Float], rewards: [Float], nextObservations: [Float]) -> [Float] {
        var values: [Float] = []
        values.reserveCapacity(count * (2 * o + a + 1))
        for row in 0 ..< count {
            values += observations[row * o ..< (row + 1) * o]
            values += actions[row * a ..< (row + 1) * a]
            values.append(rewards[row])
            values += nextObservations[row * o ..< (row + 1) * o]
        }
        return values
    }
}
