import ArgumentParser
import Foundation
import Learning
import MEow
import Testing

@testable import CommandLineOptions

/// The hyperparameter flags are exactly `MEowConfig.hyperparameters`: names, aliases, help, and the
/// override each one sets.
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

    @Test func theFlagsAreTheTablesNamesAliasesAndHelp() throws {
        let dump = try JSONDecoder().decode(DumpedHelp.self, from: Data(MEowOptions._dumpHelp().utf8))
        let arguments = dump.command.arguments.filter { $0.names?.contains { $0.name == "help" } != true }
        var actual: [String: String] = [:]
        for argument in arguments {
            let names = (argument.names ?? []).filter { $0.kind == "long" }.map(\.name).sorted()
            actual[names.joined(separator: " ")] = argument.abstract ?? ""
        }
        // A boolean's `--no-` form is an argument of its own, with the same help.
        var expected: [String: String] = [:]
        for entry in MEowConfig.hyperparameters {
            let help = entry.help + " " + entry.defaultDescription
            expected[entry.longNames.sorted().joined(separator: " ")] = help
            if case .bool = entry.field { expected["no-" + entry.name] = help }
        }
        #expect(actual == expected)
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
            }
            for (arguments, expected) in forms {
                let overrides = try MEowOptions.parse(arguments).overrides
                #expect(overrides.given == [entry.name], "\(arguments)")
                #expect(overrides.applied(to: base) == expected, "\(arguments)")
            }
        }
    }
}
