import ArgumentParser
import CommandLineOptions
import Foundation
import Learning
import Logging
import MEow

/// `meow train --actors N`: a learner and N actor processes on this machine.
///
/// The siblings `meow-learner` and `meow-actor` are started from the directory of the
/// running executable, on a free loopback TCP port. The learner's progress line shows
/// on stderr; each actor logs to actor-N.log and writes actor-N.json in the run
/// directory. SIGINT/SIGTERM are forwarded to every child (actors first, so they flush
/// to the learner), and the command exits 0 once the learner has saved its state.
/// `--resume RUNDIR` is passed to the learner, which continues the run's latest checkpoint;
/// actors simply connect to it, as they would to a restarted learner.
struct OneMachineRun {
    let environment: String
    let actors: Int
    let environmentsPerActor: Int
    let runDirectory: String
    /// The effective hyperparameters: actors build the same policy network from them.
    let policy: MEowConfig
    /// meow-learner flags given on `meow train` (MEow hyperparameters, BLAS, --config), passed through.
    let learnerFlags: [String]
    /// The config file, also read by the actors (their `actor` section).
    var configFile: String?
    /// The checkpoint or run directory the learner resumes from.
    var resume: String?
    /// A MuJoCo model file replacing the environment's built-in model, for the learner and every actor.
    var model: String?
    /// The run's own lines (start, stop, exit) on stderr, beside the learner's.
    let logger = Logger(label: "meow.train")

    func run() throws -> Int32 {
        let directory = Self.executableDirectory()
        let learnerPath = directory.appendingPathComponent("meow-learner").path
        let actorPath = directory.appendingPathComponent("meow-actor").path
        for path in [learnerPath, actorPath] where !FileManager.default.isExecutableFile(atPath: path) {
            throw OneMachineError.missingSibling(path)
        }
        try FileManager.default.createDirectory(atPath: runDirectory, withIntermediateDirectories: true)
        let url = "tcp://127.0.0.1:\(try Self.freePort())"
        logger.info("one-machine run: learner and \(actors) actors on \(url), run directory \(runDirectory)")

        var learnerArguments = ["--listen", url, "--env", environment, "--run-dir", runDirectory]
        if let resume { learnerArguments += ["--resume", resume] }
        if let model { learnerArguments += ["--model", model] }
        // Every wake-up of this thread is an event: the learner exits, or a stop is requested.
        let wake = DispatchSemaphore(value: 0)
        let actorsExited = DispatchGroup()
        let learnerExited = DispatchGroup()
        learnerExited.enter()
        let learner = try Self.launch(learnerPath, learnerArguments + learnerFlags, logFile: nil) {
            learnerExited.leave()
            wake.signal()
        }
        // A zero timeout only asks: has the termination handler run?
        let learnerRunning = { learnerExited.wait(timeout: .now()) == .timedOut }
        var children: [Process] = []
        for index in 0 ..< actors {
            var arguments = ["--connect", url, "--env", environment, "--actor-id", String(index),
                             "--envs", String(environmentsPerActor),
                             "--stats-file", runDirectory + "/actor-\(index).json"]
            if let configFile { arguments += ["--config", configFile] }
            if let model { arguments += ["--model", model] }
            arguments += shapeFlags
            actorsExited.enter()
            children.append(try Self.launch(actorPath, arguments, logFile: runDirectory + "/actor-\(index).log") {
                actorsExited.leave()
            })
        }

        let stop = StopFlag()
        let handlers = stop.installSignalHandlers()
        defer { handlers.cancel() }
        let stopWatcher = Task {
            await stop.wait()
            if stop.isSet { wake.signal() }
        }
        defer { stopWatcher.cancel() }
        var forwarded = false
        while learnerRunning() {
            wake.wait()
            if stop.isSet && !forwarded && learnerRunning() {
                forwarded = true
                logger.notice("one-machine run: stopping actors, then the learner")
                for child in children where child.isRunning { kill(child.processIdentifier, SIGINT) }
                // Timed wait: a deadline for the actors to flush to the learner before it stops.
                _ = actorsExited.wait(timeout: .now() + .seconds(15))
                if learner.isRunning { kill(learner.processIdentifier, SIGINT) }
            }
        }
        // The learner ended (budget spent or stopped): actors are told the run is over; give them a moment.
        // Timed wait: deadlines, then SIGTERM and SIGKILL for actors that outstay them.
        if actorsExited.wait(timeout: .now() + .seconds(10)) == .timedOut {
            for child in children where child.isRunning { kill(child.processIdentifier, SIGTERM) }
            if actorsExited.wait(timeout: .now() + .seconds(10)) == .timedOut {
                for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) }
            }
        }
        logger.log(level: learner.terminationStatus == 0 ? .info : .warning,
                   "one-machine run: learner exited with \(learner.terminationStatus); actor logs in \(runDirectory)")
        return learner.terminationStatus
    }

    /// The flags that shape the policy, all of them: actors must build the learner's architecture
    /// whatever preset, file, flags or checkpoint it came from.
    private var shapeFlags: [String] {
        // `--flag=value`: a negative value as a separate argument would parse as a flag.
        ["--seed=\(policy.seed)", "--log-sigma-min=\(policy.logSigmaMin)", "--log-sigma-max=\(policy.logSigmaMax)",
         "--flow-hidden=\(policy.flowHidden)", "--shift-hidden=\(policy.shiftHidden)",
         "--coupling-layers=\(policy.couplingLayers)",
         policy.rewardShift ? "--reward-shift" : "--no-reward-shift",
         policy.clippedDoubleQ ? "--clipped-double-q" : "--no-clipped-double-q"]
    }

    /// Files and folders a learner run leaves in its run directory.
    static let runEntries = LearnerRunFiles.entries

    /// Refuses to start a fresh run over an earlier one unless `overwrite`, as the single-process
    /// trainer does; with `overwrite`, removes the earlier run's files (and nothing else).
    static func prepare(runDirectory: String, overwrite: Bool) throws {
        let manager = FileManager.default
        let names = (try? manager.contentsOfDirectory(atPath: runDirectory)) ?? []
        let earlier = names.filter {
            runEntries.contains($0) || $0.hasPrefix("events.out.tfevents.")
                || ($0.hasPrefix("actor-") && ($0.hasSuffix(".json") || $0.hasSuffix(".log")))
        }
        guard !earlier.isEmpty else { return }
        guard overwrite else {
            throw ValidationError(
                "\(runDirectory) already holds a run; pass --overwrite to replace it or --resume \(runDirectory) to continue it.")
        }
        for name in earlier { try manager.removeItem(atPath: runDirectory + "/" + name) }
    }

    /// The `meow train` arguments that meow-learner understands too (everything but the
    /// one-machine and single-process flags, which the caller passes explicitly).
    static func passThrough(_ arguments: [String]) -> [String] {
        let withValue: Set<String> = [
            "--actors", "--env", "--run-dir", "--multigoal-rollouts", "--envs-per-actor", "--resume", "--model",
        ]
        let alone: Set<String> = ["--overwrite", "--quiet", "train"]
        var result: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let name = String(argument.split(separator: "=", maxSplits: 1).first ?? "")
            if withValue.contains(argument) {
                index += 2
                continue
            }
            if !(withValue.contains(name) || alone.contains(argument)) { result.append(argument) }
            index += 1
        }
        return result
    }

    /// Starts `path` with its stdout and stderr in `logFile` (nil: this process's); `exited` runs (on a
    /// Foundation thread) once it has ended.
    private static func launch(_ path: String, _ arguments: [String], logFile: String?,
                               exited: @escaping @Sendable () -> Void) throws -> Process {
        let process = Process()
        // Set before `run()`: a child that ends at once still reports it.
        process.terminationHandler = { _ in exited() }
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if let logFile {
            _ = FileManager.default.createFile(atPath: logFile, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: logFile))
            process.standardError = handle
            process.standardOutput = handle
        }
        try process.run()
        return process
    }

    /// The directory of the running `meow` binary, where `meow-learner` and `meow-actor` sit beside it.
    ///
    /// argv[0] alone is not enough: started through PATH it is a bare name (`meow`), which would resolve
    /// against the working directory. /proc/self/exe names the binary wherever it was found.
    static func executableDirectory() -> URL {
        let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: path).resolvingSymlinksInPath().deletingLastPathComponent()
    }

    /// A TCP port nothing listens on right now (the kernel picks it).
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw OneMachineError.noPort }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw -> Bool in
                bind(descriptor, raw, length) == 0 && getsockname(descriptor, raw, &length) == 0
            }
        }
        guard bound else { throw OneMachineError.noPort }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Why the one-machine mode could not start.
enum OneMachineError: Error, CustomStringConvertible {
    case missingSibling(String)
    case noPort

    var description: String {
        switch self {
        case .missingSibling(let path): "\(path) is missing; build all products (swift build -c release)"
        case .noPort: "no free loopback TCP port"
        }
    }
}
