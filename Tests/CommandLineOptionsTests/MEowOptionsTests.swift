import ArgumentParser
import Foundation
import Learning
import MEow
import Testing

@testable import CommandLineOptions

/// The hyperparameter and run-setting flags are exactly `MEowConfig.hyperparameters` and
/// `RunSettings.settings`: names, aliases, help, and the override each one sets.
@Suite struct MEowOptionsTests {
    /// The parts of ArgumentParser's dump-help JSON (`ToolInfoV0`) that describe a flag.
    struct DumpedHelp: Decodable {
        struct Command: Decodable { let arguments: [Argument] }
        struct Argument: Decodable {
            struct Name: Decodable { let kind: String, name: String }
            let names: [Name]?
            let abstract: String?
        }
        let command: Command
    }

    // MARK: - Flags

    /// Each argument of `options`, by its sorted long names, with its help.
    static func flags(_ options: any ParsableArguments.Type) throws -> [String: String] {
        let dump = try JSONDecoder().decode(DumpedHelp.self, from: Data(options._dumpHelp().utf8))
        let arguments = dump.command.arguments.filter { $0.names?.contains { $0.name == "help" } != true }
        var flags: [String: String] = [:]
        for argument in arguments {
            let names = (argument.names ?? []).filter { $0.kind == "long" }.map(\.name).sorted()
            flags[names.joined(separator: " ")] = argument.abstract ?? ""
        }
        return flags
    }

    /// What `flags` should give for `settings`, each with its help; a boolean's `--no-` form is an
    /// argument of its own, with the same help.
    static func expected<Root>(_ settings: [Setting<Root>], help: (Setting<Root>) -> String) -> [String: String] {
        var expected: [String: String] = [:]
        for setting in settings {
            expected[setting.longNames.sorted().joined(separator: " ")] = help(setting)
            if case .bool = setting.field { expected["no-" + setting.name] = help(setting) }
        }
        return expected
    }

    @Test func theFlagsAreTheTablesNamesAliasesAndHelp() throws {
        #expect(try Self.flags(MEowOptions.self) == Self.expected(MEowConfig.hyperparameters) {
            $0.help + " " + $0.defaultDescription
        })
        let run = try Self.flags(RunOptions.self).merging(try Self.flags(BLASOptions.self)) { a, _ in a }
        #expect(run == Self.expected(RunSettings.settings, help: \.help))
    }

    // MARK: - Overrides

    @Test func noFlagsOverrideNothing() throws {
        #expect(try MEowOptions.parse([]).overrides == ConfigOverrides())
    }

    @Test func eachFlagSetsItsOwnField() throws {
        let base = MEowConfig()
        for entry in MEowConfig.hyperparameters {
            var forms: [(arguments: [String], expected: MEowConfig)] = []
            var changed = base
            switch entry.field {
            case let .bool(path):
                changed[keyPath: path].toggle()
                let flag = changed[keyPath: path] ? entry.name : "no-" + entry.name
                forms.append((["--" + flag], changed))
            case let .float(path):
                changed[keyPath: path] += 0.5
                forms += entry.longNames.map { (["--\($0)=\(changed[keyPath: path])"], changed) }
            case let .int(path):
                changed[keyPath: path] += 3
                forms += entry.longNames.map { (["--\($0)=\(changed[keyPath: path])"], changed) }
            case let .uint64(path):
                changed[keyPath: path] += 3
                forms += entry.longNames.map { (["--\($0)=\(changed[keyPath: path])"], changed) }
            case .string, .optionalInt, .optionalString:
                Issue.record("MEowConfig has no \(entry.name) of this type")
            }
            for (arguments, expected) in forms {
                let overrides = try MEowOptions.parse(arguments).overrides
                #expect(overrides.given == [entry.name], "\(arguments)")
                #expect(overrides.applied(to: base) == expected, "\(arguments)")
            }
        }
    }

    @Test func eachRunFlagSetsItsOwnField() throws {
        let base = RunSettings()
        for setting in RunSettings.settings {
            var expected = base
            var argument = "--\(setting.name)=7"
            switch setting.field {
            case let .bool(path):
                expected[keyPath: path].toggle()
                argument = "--" + (expected[keyPath: path] ? "" : "no-") + setting.name
            case let .int(path): expected[keyPath: path] = 7
            case let .optionalInt(path): expected[keyPath: path] = 7
            case let .string(path): expected[keyPath: path] = "7"
            case let .optionalString(path): expected[keyPath: path] = "7"
            case .float, .uint64:
                Issue.record("RunSettings has no \(setting.name) of this type")
                continue
            }
            let isBLAS = setting.name.hasPrefix("blas-")
            let overrides = try RunOptions.parse(isBLAS ? [] : [argument])
                .overrides(blas: try BLASOptions.parse(isBLAS ? [argument] : []))
            #expect(overrides.given == [setting.name], "\(argument)")
            #expect(overrides.applied(to: base) == expected, "\(argument)")
        }
    }
}
