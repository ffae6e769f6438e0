import ArgumentParser
import CommandLineOptions
import Environments
import Foundation
import Telemetry

/// Raw environment stepping: steps per second of the built-in environments, one thread.
///
/// Uniform random actions in [-1, 1] from a fixed generator, episodes reset with seeds
/// 0, 1, 2, … as they end, no policy and no replay: what stepping alone costs. Prints
/// one JSON object per line, so `benchmarks/env_stepping.py` can set the figures beside
/// gymnasium's measured in the same run.
struct EnvironmentBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "env", abstract: "Time raw environment steps (random actions, no policy) on one thread.")

    @Option(parsing: .upToNextOption, help: "Environments to time.")
    var env: [String] = ["hopper", "humanoid"]

    @Option(help: "Steps per repeat.") var steps = 20_000
    @Option(help: "Timed repeats; the median is reported.") var repeats = 5
    @Flag(help: "One JSON object per environment instead of a table.") var json = false

    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        guard steps > 0, repeats > 0 else { throw ValidationError("--steps and --repeats must be positive.") }
        for name in env where (try? EnvironmentRegistry.entry(named: name)) == nil {
            throw ValidationError("Unknown environment '\(name)': pass --env with any of "
                + EnvironmentRegistry.names.joined(separator: ", ") + ".")
        }
    }

    func run() throws {
        _ = logging.bootstrap(label: "meow.bench")
        for name in env {
            var environment = try EnvironmentRegistry.makeUnitActionEnvironment(name: name)
            var generator = EnvironmentGenerator(seed: 12345)
            let actionCount = environment.actionSpace.count
            var seed: UInt64 = 0
            var episodes = 0
            _ = environment.reset(seed: seed)
            var action = [Float](repeating: 0, count: actionCount)
            func stepMany(_ count: Int) {
                for _ in 0 ..< count {
                    for i in 0 ..< actionCount { action[i] = Float(generator.uniform(low: -1, high: 1)) }
                    if environment.step(action: action).isLast {
                        seed += 1
                        episodes += 1
                        _ = environment.reset(seed: seed)
                    }
                }
            }
            stepMany(min(steps, 1000))  // warm-up
            let clock = ContinuousClock()
            var rates: [Double] = []
            for _ in 0 ..< repeats {
                let start = clock.now
                stepMany(steps)
                let elapsed = clock.now - start
                rates.append(Double(steps) / elapsed.seconds)
            }
            let median = rates.sorted()[rates.count / 2]
            if json {
                print("{\"env\": \"\(name)\", \"steps_per_second\": \(median), \"steps\": \(steps), "
                    + "\"repeats\": \(repeats), \"episodes\": \(episodes)}")
            } else {
                print("\(name): \(String(format: "%.0f", median)) steps/s (median of \(repeats) × \(steps) steps, "
                    + "\(episodes) episodes ended)")
            }
        }
    }
}
