import Testing
@testable import MEow

// MARK: - The table covers MEowConfig

/// `logSigmaMax` -> `log-sigma-max`.
private func kebab(_ label: String) -> String {
    label.reduce(into: "") { out, c in
        if c.isUppercase { out.append("-") }
        out.append(contentsOf: c.lowercased())
    }
}

/// `config`'s stored properties as (kebab-case name, value as text).
private func fields(_ config: MEowConfig) -> [String: String] {
    Dictionary(uniqueKeysWithValues: Mirror(reflecting: config).children.map { (kebab($0.label ?? ""), "\($0.value)") })
}

@Test func everyFieldOfMEowConfigHasOneEntry() {
    let names = MEowConfig.hyperparameters.map(\.name)
    #expect(names.sorted() == fields(MEowConfig()).keys.sorted(), "MEowConfig's fields and the table's names differ")
    let flags = MEowConfig.hyperparameters.flatMap(\.longNames)
    #expect(Set(flags).count == flags.count, "a flag name is used twice")
}

@Test func eachEntrysKeyPathIsTheFieldOfItsName() {
    let base = MEowConfig()
    for entry in MEowConfig.hyperparameters {
        var changed = base
        switch entry.field {
        case let .float(path): changed[keyPath: path] += 1
        case let .int(path): changed[keyPath: path] += 1
        case let .uint64(path): changed[keyPath: path] += 1
        case let .bool(path): changed[keyPath: path].toggle()
        case let .string(path): changed[keyPath: path] += "x"
        case let .optionalInt(path): changed[keyPath: path] = (changed[keyPath: path] ?? 0) + 1
        case let .optionalString(path): changed[keyPath: path] = (changed[keyPath: path] ?? "") + "x"
        }
        let (before, after) = (fields(base), fields(changed))
        let differing = before.keys.filter { before[$0] != after[$0] }
        #expect(differing == [entry.name], "\(entry.name)'s key path writes \(differing)")
        var copy = base
        entry.copy(from: changed, to: &copy)
        #expect(copy == changed, "\(entry.name): copy(from:to:) moves its field")
    }
}

// MARK: - Defaults

@Test func aFixedDefaultIsEveryPresetsValue() {
    for entry in MEowConfig.hyperparameters {
        let distinct = Set(entry.presetValues.map(\.value))
        switch entry.defaultIs {
        case .fixed:
            #expect(distinct == [entry.describe(in: MEowConfig())],
                    "\(entry.name) is .fixed but the presets set \(distinct.sorted()): make it .perPreset")
        case .perPreset:
            #expect(distinct.count > 1, "\(entry.name) is .perPreset but every preset has \(distinct.sorted()): make it .fixed")
        }
    }
}

@Test func helpDefaultsComeFromThePresets() throws {
    let learningRate = try #require(MEowConfig.hyperparameter(\.learningRate))
    #expect(learningRate.defaultDescription == "(default: \(MEowConfig().learningRate))")
    #expect(MEowConfig.hyperparameter(\.rewardShift)?.defaultDescription == "(default: on)")
    let gamma = try #require(MEowConfig.hyperparameter(\.gamma)).defaultDescription
    #expect(gamma.hasPrefix("(default: the --env preset's; 0.99: hopper,"))
    #expect(gamma.hasSuffix("; 0.9: multigoal)"))
    #expect(MEowConfig.hyperparameter(named: "total-steps")?.flag == "--steps")
    #expect(MEowConfig.hyperparameter(named: "tau")?.flag == "--tau")
}
