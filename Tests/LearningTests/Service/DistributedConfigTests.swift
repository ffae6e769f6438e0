import Foundation
import MEow
import Testing

@testable import Learning

@Suite struct DistributedConfigTests {
    static func file(_ text: String) throws -> String {
        let url = temporaryRunDirectory().appendingPathExtension("json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static func learner(
        file: String? = nil, meow: ConfigOverrides = ConfigOverrides(), flags: Set<String> = [],
        apply: (inout LearnerConfiguration) -> Void = { _ in }, resume: CheckpointManifest? = nil
    ) throws(ConfigurationError) -> LearnerConfiguration {
        try DistributedConfigResolver.learner(
            environment: nil, configFile: file, meow: meow, run: RunSettingsOverrides(), learnerFlags: flags,
            applyLearnerFlags: apply, resume: resume)
    }

    static func message(_ body: () throws(ConfigurationError) -> Void) -> String? {
        do {
            try body()
            return nil
        } catch {
            return error.description
        }
    }

    // MARK: - Precedence

    @Test func oneFileConfiguresTheLearnerAndItsActors() throws {
        let path = try Self.file("""
            {"env": "mountaincar", "meow": {"seed": 9, "flow-hidden": 32},
             "run": {"run-dir": "/tmp/x", "checkpoint-every": 500, "metrics-listen": "9100"},
             "learner": {"max-actors": 5, "listen": "tcp://127.0.0.1:7800", "samples-per-insert": 64},
             "actor": {"connect": "tcp://127.0.0.1:7800", "envs": 3, "batch-size": 16}}
            """)
        let learner = try Self.learner(file: path, apply: { $0.maxActors = 6 })
        #expect(learner.environment == "mountaincar" && learner.agent.seed == 9 && learner.agent.flowHidden == 32)
        #expect(learner.maxActors == 6 && learner.listen == "tcp://127.0.0.1:7800" && learner.samplesPerInsert == 64)
        #expect(learner.runDirectory == "/tmp/x" && learner.run.checkpointEvery == 500)
        #expect(learner.metricsListen == "127.0.0.1:9100")

        let actor = try DistributedConfigResolver.actor(environment: nil, configFile: path, seed: nil) { $0.envs = 2 }
        #expect(actor.environment == "mountaincar" && actor.seed == 9)
        #expect(actor.settings.connect == "tcp://127.0.0.1:7800" && actor.settings.envs == 2)
        #expect(actor.settings.batchSize == 16)
        #expect(try actor.file?.meowConfig(over: MEowConfig()).flowHidden == 32)
    }

    @Test func theRenderedLearnerConfigReadsBackAsTheSameConfig() throws {
        var configuration = try Self.learner(apply: {
            $0.maxStaleness = 7
            $0.errorBuffer = 200_000.5
            $0.tlsCertificateFile = "cert.pem"
            $0.tlsKeyFile = "key.pem"
        })
        configuration.runDirectory = "runs/r"
        let path = try Self.file(configuration.rendered)
        let again = try Self.learner(file: path)
        #expect(again.rendered == configuration.rendered)
        #expect(again.tls == configuration.tls && again.maxStaleness == 7 && again.errorBuffer == 200_000.5)
    }

    // MARK: - Mistakes

    @Test func unknownAndInvalidLearnerKeysAreNamed() throws {
        let typo = Self.message { () throws(ConfigurationError) in
            _ = try Self.learner(file: try! Self.file(#"{"learner": {"max-actor": 4}}"#))
        }
        #expect(typo?.contains("Unknown key 'learner.max-actor'") == true)
        #expect(typo?.contains("did you mean 'max-actors'?") == true)
        let actorTypo = Self.message { () throws(ConfigurationError) in
            _ = try DistributedConfigResolver.actor(
                environment: nil, configFile: try! Self.file(#"{"actor": {"conect": "x"}}"#), seed: nil) { _ in }
        }
        #expect(actorTypo?.contains("did you mean 'connect'?") == true)

        let path = try Self.file(#"{"learner": {"max-actors": 0}}"#)
        let fromFile = Self.message { () throws(ConfigurationError) in _ = try Self.learner(file: path) }
        #expect(fromFile?.hasPrefix("Invalid 'learner.max-actors' in \(path): expected at least 1") == true)
        let fromFlag = Self.message { () throws(ConfigurationError) in
            _ = try Self.learner(file: path, flags: ["max-actors"], apply: { $0.maxActors = -1 })
        }
        #expect(fromFlag?.hasPrefix("Invalid --max-actors: expected at least 1") == true)
        let wrongType = Self.message { () throws(ConfigurationError) in
            _ = try Self.learner(file: try! Self.file(#"{"learner": {"samples-per-insert": "many"}}"#))
        }
        #expect(wrongType?.contains("expected a finite number or null, got a string") == true)
    }

    // MARK: - Resume

    @Test func aResumeKeepsTheCheckpointsHyperparametersButMayExtendTheRun() throws {
        var trained = try #require(MEowConfig.preset("pendulum"))
        (trained.batchSize, trained.learningStarts, trained.totalSteps) = (64, 200, 5000)
        var manifest = LearnerCheckpointTests.manifest(LearnerCheckpointTests.midRunState())
        manifest.config = trained

        let plain = try Self.learner(resume: manifest)
        #expect(plain.agent == trained)
        var same = ConfigOverrides()
        (same.batchSize, same.totalSteps) = (64, 9000)
        let extended = try Self.learner(meow: same, resume: manifest)
        #expect(extended.agent.totalSteps == 9000 && extended.agent.batchSize == 64)

        var changed = ConfigOverrides()
        changed.alpha = trained.alpha * 2
        let conflict = Self.message { () throws(ConfigurationError) in _ = try Self.learner(meow: changed, resume: manifest) }
        #expect(conflict?.hasPrefix("'alpha' is \(trained.alpha * 2) but the checkpoint being resumed was trained with \(trained.alpha)") == true)
        let otherEnvironment = Self.message { () throws(ConfigurationError) in
            _ = try DistributedConfigResolver.learner(
                environment: "mountaincar", configFile: nil, meow: ConfigOverrides(), run: RunSettingsOverrides(),
                learnerFlags: [], applyLearnerFlags: { _ in }, resume: manifest)
        }
        #expect(otherEnvironment?.hasPrefix("'env' is mountaincar but the checkpoint") == true)
    }

    // MARK: - Metrics exposure

    /// The refusal for `listen` and `token`, nil when there is none.
    private func exposure(_ listen: String, token: [UInt8]?) -> String? {
        Self.message { () throws(ConfigurationError) in
            try DistributedConfigResolver.checkMetricsExposure(listen, token: token)
        }
    }

    @Test func metricsBeyondLoopbackNeedATokenAndLoopbackDoesNot() {
        let open = exposure("0.0.0.0:9100", token: nil)
        #expect(open?.contains("--metrics-listen 0.0.0.0:9100") == true && open?.contains("--token-file") == true)
        #expect(exposure("[::]:9100", token: nil) != nil)
        #expect(exposure("0.0.0.0:9100", token: [1]) == nil)
        #expect(exposure("127.0.0.1:9100", token: nil) == nil)
        #expect(exposure("[::1]:9100", token: nil) == nil)
        let garbled = exposure("metrics-host:9100", token: nil)
        #expect(garbled?.hasPrefix("Invalid --metrics-listen") == true)
    }

    @Test func aFileThatExposesMetricsWithoutATokenIsRefused() throws {
        let path = try Self.file(#"{"env": "mountaincar", "run": {"metrics-listen": "0.0.0.0:9100"}}"#)
        let refusal = Self.message { () throws(ConfigurationError) in _ = try Self.learner(file: path) }
        #expect(refusal?.contains("--metrics-listen 0.0.0.0:9100 is reachable beyond this machine") == true)
    }
}
