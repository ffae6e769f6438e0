import Foundation
import MEow
import Testing

@testable import Learning

@Suite struct ConfigFileTests {
    /// Writes `text` to a temporary file and returns its path.
    static func file(_ text: String) throws -> String {
        let url = temporaryRunDirectory().appendingPathExtension("json")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    static func error(_ text: String, overrides: ConfigOverrides = ConfigOverrides()) throws -> String? {
        let path = try file(text)
        do {
            _ = try ConfigResolver.resolve(environmentName: nil, configFile: path, overrides: overrides)
            return nil
        } catch {
            return error.description
        }
    }

    // MARK: - Precedence

    @Test func presetThenFileThenFlags() throws {
        let path = try Self.file(#"{"env": "mountaincar", "meow": {"alpha": 0.5, "tau": 0.01}, "run": {"keep-checkpoints": 5}}"#)
        var overrides = ConfigOverrides()
        overrides.tau = 0.02
        var runOverrides = RunSettingsOverrides()
        runOverrides.expName = "ablation"
        let resolved = try ConfigResolver.resolve(
            environmentName: nil, configFile: path, overrides: overrides, runOverrides: runOverrides)
        var expected = try #require(MEowConfig.preset("mountaincar"))
        (expected.alpha, expected.tau) = (0.5, 0.02)
        #expect(resolved.environmentName == "mountaincar")
        #expect(resolved.config == expected)
        #expect(resolved.settings.keepCheckpoints == 5 && resolved.settings.expName == "ablation")

        let flagEnvironment = try ConfigResolver.resolve(
            environmentName: "pendulum", configFile: path, overrides: ConfigOverrides())
        #expect(flagEnvironment.environmentName == "pendulum" && flagEnvironment.config.alpha == 0.5)
    }

    @Test func theRenderedConfigReadsBackAsTheSameConfig() throws {
        var overrides = ConfigOverrides()
        (overrides.learningRate, overrides.seed, overrides.rewardShift, overrides.clippedDoubleQ) =
            (3e-4, UInt64.max, false, false)
        var runOverrides = RunSettingsOverrides()
        (runOverrides.blasCore, runOverrides.checkpointReplay) = ("Haswell", true)
        let resolved = try ConfigResolver.resolve(
            environmentName: "multigoal", configFile: nil, overrides: overrides, runOverrides: runOverrides)
        let path = try Self.file(resolved.rendered)
        let again = try ConfigResolver.resolve(environmentName: nil, configFile: path, overrides: ConfigOverrides())
        #expect(again == resolved)
        #expect(resolved.rendered.contains(#""learning-rate": 0.0003"#))
        #expect(resolved.rendered.contains(#""run-dir": null"#))
    }

    // MARK: - MuJoCo model files

    @Test func aModelFileTravelsThroughTheFileAsAnAbsolutePath() throws {
        let path = try Self.file(#"{"env": "hopper", "model": "variants/heavy.xml"}"#)
        let resolved = try ConfigResolver.resolve(environmentName: nil, configFile: path, overrides: ConfigOverrides())
        let absolute = URL(fileURLWithPath: "variants/heavy.xml").standardizedFileURL.path
        #expect(resolved.modelPath == absolute)
        #expect(resolved.rendered.contains("\"model\": \"\(absolute)\""))
        // The rendered file reads back to the same configuration, model included.
        let again = try ConfigResolver.resolve(
            environmentName: nil, configFile: try Self.file(resolved.rendered), overrides: ConfigOverrides())
        #expect(again == resolved)
        // A flag wins over the file; without either, no model line is written.
        let flag = try ConfigResolver.resolve(
            environmentName: nil, configFile: path, overrides: ConfigOverrides(), modelPath: "/tmp/other.xml")
        #expect(flag.modelPath == "/tmp/other.xml")
        let none = try ConfigResolver.resolve(environmentName: "hopper", configFile: nil, overrides: ConfigOverrides())
        #expect(none.modelPath == nil && !none.rendered.contains("\"model\""))
    }

    @Test func aModelFileForAnEnvironmentWithoutMuJoCoIsRefusedInASentence() throws {
        let message = try Self.error(#"{"env": "pendulum", "model": "heavy.xml"}"#)
        #expect(message?.contains("'pendulum' is not a MuJoCo task") == true, "\(message ?? "no error")")
        #expect(message?.contains("hopper") == true)
        let wrongType = try Self.error(#"{"env": "hopper", "model": 3}"#)
        #expect(wrongType?.contains("Invalid 'model'") == true, "\(wrongType ?? "no error")")
    }

    // MARK: - Mistakes name the key

    @Test func unknownKeysAreErrorsWithASuggestion() throws {
        let typo = try #require(try Self.error(#"{"meow": {"learning-rat": 0.001}}"#))
        #expect(typo.hasPrefix("Unknown key 'meow.learning-rat' in "))
        #expect(typo.contains("did you mean 'learning-rate'?"))
        let section = try #require(try Self.error(#"{"mewo": {}}"#))
        #expect(section.contains("'mewo'") && section.contains("did you mean 'meow'?"))
        let far = try #require(try Self.error(#"{"run": {"completely-unrelated": 1}}"#))
        #expect(far.contains("'run.completely-unrelated'") && far.contains("docs/configuration.md"))
    }

    @Test func wrongTypesAndRangesNameTheKeyAndWhatIsExpected() throws {
        let type = try #require(try Self.error(#"{"meow": {"batch-size": "big"}}"#))
        #expect(type.hasPrefix("Invalid 'meow.batch-size' in ") && type.contains("expected an integer, got a string"))
        let fraction = try #require(try Self.error(#"{"meow": {"batch-size": 2.5}}"#))
        #expect(fraction.contains("'meow.batch-size'"))
        let range = try #require(try Self.error(#"{"meow": {"tau": 0}}"#))
        #expect(range.hasPrefix("Invalid 'meow.tau' in ") && range.contains("a Polyak rate in (0, 1]"))
        let run = try #require(try Self.error(#"{"run": {"keep-checkpoints": 0}}"#))
        #expect(run.hasPrefix("Invalid 'run.keep-checkpoints' in ") && run.contains("at least 1"))
        // A flag that sets the bad value is blamed instead of the file.
        var overrides = ConfigOverrides()
        overrides.tau = 2
        let flag = try #require(try Self.error(#"{"meow": {"tau": 0.01}}"#, overrides: overrides))
        #expect(flag.hasPrefix("Invalid --tau:"))
        let json = try #require(try Self.error(#"{"meow": {"alpha": 0.2"#))
        #expect(json.contains("is not valid JSON"))
    }

    // MARK: - Documentation

    /// The config structs' stored properties, as keys.
    static func fieldKeys(_ value: Any) -> [String] {
        Mirror(reflecting: value).children.compactMap(\.label).map(kebabCase)
    }

    /// docs/configuration.md.
    static func configurationPage() throws -> String {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("docs/configuration.md"), encoding: .utf8)
    }

    @Test func theKeyTablesAreTheGeneratedOnes() throws {
        let page = try Self.configurationPage()
        for section in ConfigFile.generatedSections {
            let marker = "<!-- \(section) keys: generated by scripts/gen-config-docs.sh, do not edit by hand -->\n"
            let begin = try #require(page.range(of: marker), "docs/configuration.md has no \(section) table marker")
            let end = try #require(page.range(of: "<!-- end of \(section) keys -->", range: begin.upperBound..<page.endIndex))
            #expect(String(page[begin.upperBound..<end.lowerBound]) == ConfigFile.keysMarkdown(section: section),
                    "docs/configuration.md's \(section) table is stale: run `swift build && BIN=.build/debug scripts/gen-config-docs.sh`")
        }
        #expect(ConfigKeys.meow.map(\.name) == MEowConfig.hyperparameters.map(\.name))
        #expect(ConfigKeys.run.map(\.name) == RunSettings.settings.map(\.name))
    }

    @Test func everyFieldHasAKeyAndEveryKeyIsDocumented() throws {
        #expect(Self.fieldKeys(MEowConfig()).sorted() == ConfigKeys.meow.map(\.name).sorted())
        #expect(Self.fieldKeys(RunSettings()).sorted() == ConfigKeys.run.map(\.name).sorted())
        #expect(Self.fieldKeys(ActorSettings()).sorted() == ConfigKeys.actor.map(\.name).sorted())
        // The learner's token, TLS value, environment, agent, run, run directory, metrics address,
        // receiver limits and spaces come from other keys (env, meow, run, spaces) or stay off the file (the token).
        let elsewhere: Set = ["token", "tls", "environment", "model-path", "agent", "run", "run-directory", "metrics-listen",
                              "limits", "spaces"]
        #expect(Set(Self.fieldKeys(LearnerConfiguration())).subtracting(elsewhere).union(["tls-cert", "tls-key"])
            == Set(ConfigKeys.learner.map(\.name)))
        let page = try Self.configurationPage()
        let sections = [("meow", ConfigKeys.meow.map(\.name)), ("run", ConfigKeys.run.map(\.name)),
                        ("learner", ConfigKeys.learner.map(\.name)), ("actor", ConfigKeys.actor.map(\.name))]
        for (section, keys) in sections {
            // Each section's table sits under its own heading, so a key documented for another section does not count.
            let heading = try #require(page.range(of: "## `\(section)` keys"), "no section for \(section)")
            let rest = page[heading.upperBound...]
            let table = rest.range(of: "\n## ").map { rest[..<$0.lowerBound] } ?? rest
            for key in keys {
                #expect(table.contains("| `\(key)` |"), "docs/configuration.md has no row for \(section).\(key)")
            }
        }
    }
}

/// `logSigmaMax` -> `log-sigma-max`, `replayChunkMiB` -> `replay-chunk-mib`.
private func kebabCase(_ name: String) -> String {
    var out = ""
    // The unit MiB is one word.
    let characters = Array(name.replacingOccurrences(of: "MiB", with: "Mib"))
    for (i, c) in characters.enumerated() {
        let previousIsLower = i > 0 && characters[i - 1].isLowercase
        if c.isUppercase && previousIsLower { out.append("-") }
        out.append(contentsOf: c.lowercased())
    }
    return out
}
