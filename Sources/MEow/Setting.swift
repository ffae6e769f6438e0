/// One setting of a configuration struct: its field, its name, flags, help and how its default reads.
///
/// A struct's table (`SettingsTable.settings`) holds one per field, and everything else is
/// derived from it: the CLI flags (`MEowOptions`, `RunOptions`), the config file's keys
/// (`ConfigKeys`), the command-line overrides (`Overrides`) and the key tables of
/// docs/configuration.md (`meow config --markdown SECTION`). Tests check that each of them
/// agrees with the table.
public struct Setting<Root>: Sendable {
    /// The field, by its type.
    public enum Field: Sendable {
        case float(WritableKeyPath<Root, Float> & Sendable)
        case int(WritableKeyPath<Root, Int> & Sendable)
        case uint64(WritableKeyPath<Root, UInt64> & Sendable)
        case bool(WritableKeyPath<Root, Bool> & Sendable)
        case string(WritableKeyPath<Root, String> & Sendable)
        case optionalInt(WritableKeyPath<Root, Int?> & Sendable)
        case optionalString(WritableKeyPath<Root, String?> & Sendable)
    }

    /// Where the default comes from: one value for every environment, or each preset's own.
    public enum Default: Sendable {
        /// `Root()`'s value, whatever the environment.
        case fixed
        /// At least one preset sets its own value (`MEowConfig.preset(_:)`).
        case perPreset
    }

    public let field: Field
    /// The field in kebab case: the config file's key and the long flag without `--`.
    public let name: String
    /// Further long flags, without `--` (`steps` for `total-steps`); the first is the one errors name.
    public let aliases: [String]
    /// The `--help` text; a hyperparameter's default is appended (`defaultDescription`).
    public let help: String
    /// What docs/configuration.md adds to `help` in the key's row; empty when nothing.
    public let note: String
    public let defaultIs: Default

    public init(_ field: Field, _ name: String, aliases: [String] = [], _ defaultIs: Default = .fixed, help: String,
         note: String = "") {
        (self.field, self.name, self.aliases, self.help, self.note, self.defaultIs) =
            (field, name, aliases, help, note, defaultIs)
    }

    /// The field's key path, for matching a `WritableKeyPath<Root, V>` against the table.
    public var keyPath: PartialKeyPath<Root> {
        switch field {
        case let .float(path): path
        case let .int(path): path
        case let .uint64(path): path
        case let .bool(path): path
        case let .string(path): path
        case let .optionalInt(path): path
        case let .optionalString(path): path
        }
    }

    /// The flag an error names: the first alias, else `--name`.
    public var flag: String { "--" + (aliases.first ?? name) }

    /// Every long flag without `--`, in the order `--help` shows them (aliases first).
    public var longNames: [String] { aliases + [name] }

    /// Writes this field of `source` into `target`.
    public func copy(from source: Root, to target: inout Root) {
        switch field {
        case let .float(path): target[keyPath: path] = source[keyPath: path]
        case let .int(path): target[keyPath: path] = source[keyPath: path]
        case let .uint64(path): target[keyPath: path] = source[keyPath: path]
        case let .bool(path): target[keyPath: path] = source[keyPath: path]
        case let .string(path): target[keyPath: path] = source[keyPath: path]
        case let .optionalInt(path): target[keyPath: path] = source[keyPath: path]
        case let .optionalString(path): target[keyPath: path] = source[keyPath: path]
        }
    }
}

/// A configuration struct with a table of its settings, one per stored property.
public protocol SettingsTable: Sendable, Equatable {
    init()
    /// Every setting, in the order the config file lists them.
    static var settings: [Setting<Self>] { get }
}

extension SettingsTable {
    /// The table's entry for `field`; nil for a key path that is not in the table.
    public static func setting(_ field: PartialKeyPath<Self>) -> Setting<Self>? {
        settings.first { $0.keyPath == field }
    }

    /// The table's entry for a kebab-case name; nil for an unknown name.
    public static func setting(named name: String) -> Setting<Self>? {
        settings.first { $0.name == name }
    }
}
