import ArgumentParser
import MEow

/// The benchmark driver: one subcommand per subsystem.
///
/// To add a benchmark, write a `ParsableCommand` in its own file and append
/// its type to `subcommands` below.
@main
struct MeowBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "meow-bench",
        abstract: "Benchmarks for meow's subsystems.",
        version: MEowVersion.current,
        subcommands: [
            CoreBenchmark.self,
            AgentBenchmark.self,
            WireBench.self,
            TransportBench.self,
            ProtocolBench.self,
            EnvironmentBenchmark.self,
        ])
}
