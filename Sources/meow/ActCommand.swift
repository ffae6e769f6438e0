import ArgumentParser
import CommandLineOptions
import Foundation
import Learning
import MEow
import Tensor

/// `meow act`: a saved policy's action, soft Q and soft V for observations from a file.
///
/// The policy file is read on its own (its metadata and tensor shapes say everything), so a
/// deployed policy needs no run directory. One JSON line per observation on stdout.
struct ActCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "act",
        abstract: "Print a saved policy's action, soft Q and soft V for each observation, as JSON lines.",
        discussion: """
            Each line is {"action": [...], "q": Q(s, a), "v": V(s)} for one observation, in file order; \
            actions are normalised to [-1, 1]. The policy file alone is read (no config.json needed).
            """)

    @Option(help: "A policy.safetensors written by `meow train` or `meow-learner`.")
    var policy: String
    @Option(help: "Observations, one per row: .npy (float32/float64, shape [n, ds] or [ds]) or .csv (ds numbers a line).")
    var observations: String
    @Flag(help: "Sample actions instead of taking the deterministic z₀ = 0 action.") var stochastic = false
    @Option(help: "Seed of the action noise for --stochastic.") var seed: UInt64 = 0
    @OptionGroup(title: "BLAS") var blas: BLASOptions
    @OptionGroup(title: "Logging") var logging: LogOptions

    func validate() throws {
        if !FileManager.default.fileExists(atPath: policy) {
            throw ValidationError("Policy file \(policy) does not exist; pass the path of a saved policy to --policy.")
        }
        if !FileManager.default.fileExists(atPath: observations) {
            throw ValidationError("Observations file \(observations) does not exist; pass a .npy or .csv file to --observations.")
        }
    }

    func run() throws {
        _ = logging.bootstrap(label: "meow.act")
        blas.loadAndLog()
        let agent: MEowAgent
        do {
            agent = try MEowAgent.fromPolicyFile(policy)
        } catch {
            throw ValidationError(LearningError.unusablePolicy(path: policy, reason: fileErrorReason(error)).description)
        }
        let table: ObservationTable
        do {
            table = try ObservationTable.load(path: observations, dimension: agent.observationDimension)
        } catch {
            throw ValidationError(error.description)
        }
        var rng = Xoshiro256(seed: seed)
        let lines = agent.answer(table, deterministic: !stochastic, rng: &rng).map(\.json)
        print(lines.joined(separator: "\n"))
    }
}
