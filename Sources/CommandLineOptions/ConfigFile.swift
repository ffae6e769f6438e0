import Foundation

/// `--config FILE`: a JSON object of flag names and values, read before the command line.
///
/// `{"alpha": 0.2, "max-actors": 8, "reward-shift": false}` reads as
/// `--alpha 0.2 --max-actors 8 --no-reward-shift`. The file's flags go first, so a flag
/// given on the command line overrides it (the last value of an option wins). Keys are the
/// flags' long names, so the file and the CLI can never disagree on a name.
public enum ConfigFile {
    /// `arguments` (without the program name) with every `--config FILE` replaced by the file's flags.
    public static func expand(_ arguments: [String]) throws -> [String] {
        var fromFiles: [String] = []
        var rest: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument == "--config", index + 1 < arguments.count {
                fromFiles += try flags(fromFile: arguments[index + 1])
                index += 2
            } else if argument.hasPrefix("--config=") {
                fromFiles += try flags(fromFile: String(argument.dropFirst("--config=".count)))
                index += 1
            } else {
                rest.append(argument)
                index += 1
            }
        }
        return fromFiles + rest
    }

    /// The flags a JSON config file stands for.
    public static func flags(fromFile path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigFileError(path: path, reason: "cannot read it")
        }
        guard let object = try? JSONDecoder().decode([String: FlagValue].self, from: data) else {
            throw ConfigFileError(path: path, reason: "expected a JSON object of flag names and numbers, strings or booleans")
        }
        var flags: [String] = []
        for key in object.keys.sorted() {
            let name = key.hasPrefix("--") ? String(key.dropFirst(2)) : key
            switch object[key]! {
            case .bool(let flag): flags.append(flag ? "--\(name)" : "--no-\(name)")
            case .integer(let value): flags += ["--\(name)", String(value)]
            case .number(let value): flags += ["--\(name)", String(value)]
            case .text(let value): flags += ["--\(name)", value]
            }
        }
        return flags
    }
}

/// One value of a config file, in the order JSON decoding tries them.
private enum FlagValue: Decodable {
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case text(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let value = try? container.decode(Int.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else {
            self = .text(try container.decode(String.self))
        }
    }
}

/// A config file that could not be read.
public struct ConfigFileError: Error, CustomStringConvertible {
    public let path: String
    public let reason: String
    public var description: String { "--config \(path): \(reason)" }
}
