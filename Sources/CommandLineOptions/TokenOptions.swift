import ArgumentParser
import Foundation

/// `--token`, `--token-file` and `MEOW_TOKEN`: the shared secret of a learner and its actors.
///
/// The value is never printed; only whether one is set.
public struct TokenOptions: ParsableArguments {
    @Option(help: "Shared auth token (prefer --token-file or MEOW_TOKEN: flags show up in ps).")
    public var token: String?
    @Option(help: "File whose first line is the auth token.")
    public var tokenFile: String?

    public init() {}

    public func validate() throws {
        if token != nil && tokenFile != nil {
            throw ValidationError("Give either --token or --token-file, not both.")
        }
        _ = try resolved()
    }

    /// The token from the flag, the file or MEOW_TOKEN (in that order), or nil when none is given.
    public func resolved(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> [UInt8]? {
        let text: String?
        if let token {
            text = token
        } else if let tokenFile {
            guard let contents = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw ValidationError("Cannot read --token-file \(tokenFile); check the path and permissions.")
            }
            text = contents.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        } else {
            text = environment["MEOW_TOKEN"]
        }
        guard let text else { return nil }
        if text.isEmpty { throw ValidationError("The auth token is empty; give a non-empty --token, --token-file or MEOW_TOKEN.") }
        return Array(text.utf8)
    }
}
