import ArgumentParser
import Learning
import MEow

/// The overrides that the parsed flags of `groups` give, by the settings table of `Root`.
///
/// ArgumentParser needs one stored property per flag; each option group names its properties as
/// the table's fields. This reads each property's wrapper (stored as `_name`) and writes its value
/// through the key path of the setting of the same name, so a new flag needs no line here.
func overrides<Root: SettingsTable>(from groups: any ParsableArguments...) -> Overrides<Root> {
    var o = Overrides<Root>()
    for child in groups.flatMap({ Mirror(reflecting: $0).children }) {
        guard let label = child.label?.dropFirst().lowercased(),
              let setting = Root.settings.first(where: { $0.name.replacingOccurrences(of: "-", with: "") == label })
        else {
            preconditionFailure("The flag property \(child.label ?? "?") has no entry in \(Root.self).settings")
        }
        switch (setting.field, child.value) {
        case let (.float(path), option as Option<Float?>): o[dynamicMember: path] = option.wrappedValue
        case let (.int(path), option as Option<Int?>): o[dynamicMember: path] = option.wrappedValue
        case let (.uint64(path), option as Option<UInt64?>): o[dynamicMember: path] = option.wrappedValue
        case let (.bool(path), flag as Flag<Bool?>): o[dynamicMember: path] = flag.wrappedValue
        case let (.string(path), option as Option<String?>): o[dynamicMember: path] = option.wrappedValue
        case let (.optionalInt(path), option as Option<Int?>): o[dynamicMember: path] = option.wrappedValue
        case let (.optionalString(path), option as Option<String?>): o[dynamicMember: path] = option.wrappedValue
        default: preconditionFailure("The flag property \(label) has another type than its \(Root.self) field")
        }
    }
    return o
}

extension NameSpecification {
    /// The long flags of a hyperparameter (`--steps`, `--total-steps`), from `MEowConfig.hyperparameters`.
    static func of(_ field: PartialKeyPath<MEowConfig>) -> NameSpecification {
        NameSpecification(entry(field).longNames.map { .customLong($0) })
    }

    /// The long flags of a run setting, from `RunSettings.settings`.
    static func of(run field: PartialKeyPath<RunSettings>) -> NameSpecification {
        NameSpecification(entry(field).longNames.map { .customLong($0) })
    }
}

extension ArgumentHelp {
    /// A hyperparameter's help with its default, from `MEowConfig.hyperparameters`.
    static func of(_ field: PartialKeyPath<MEowConfig>) -> ArgumentHelp {
        let hyperparameter = entry(field)
        return ArgumentHelp(hyperparameter.help + " " + hyperparameter.defaultDescription)
    }

    /// A run setting's help, from `RunSettings.settings`.
    static func of(run field: PartialKeyPath<RunSettings>) -> ArgumentHelp {
        ArgumentHelp(entry(field).help)
    }
}

/// The table's entry for `field`; a flag declared for a field without one stops at start-up.
private func entry<Root: SettingsTable>(_ field: PartialKeyPath<Root>) -> Setting<Root> {
    guard let setting = Root.setting(field) else {
        preconditionFailure("\(field) is missing from \(Root.self).settings")
    }
    return setting
}
