import Foundation
import Testing
@testable import Wire

/// Runs only when MEOW_DIFFERENTIAL_CORPUS names a file written by
/// protocol/python/tools/differential_corpus.py: the Swift codec must reach the Python codec's
/// verdict (decoded, or the same error code) on every mutated frame.
@Suite struct DifferentialTests {
    static let corpusPath = ProcessInfo.processInfo.environment["MEOW_DIFFERENTIAL_CORPUS"]

    @Test(.enabled(if: corpusPath != nil, "set MEOW_DIFFERENTIAL_CORPUS to run"))
    func swiftAgreesWithPythonOnEveryMutant() throws {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: try #require(Self.corpusPath))))
        var reader = WireReader(data)
        var frames = 0
        var disagreements = 0
        while reader.readableBytes > 0 {
            let length = Int(try reader.readUInt32LE())
            let frame = try reader.readBytes(count: length)
            let pythonCode = try reader.readUInt16LE()
            let swiftCode = wireError { () throws(WireError) in try Frame.decode(frame) }?.code.rawValue ?? 0
            frames += 1
            if swiftCode != pythonCode {
                disagreements += 1
                if disagreements <= 5 {
                    Issue.record("python \(pythonCode), swift \(swiftCode): \(frame)")
                }
            }
        }
        print("differential: \(frames) frames, \(disagreements) disagreements")
        #expect(frames > 0 && disagreements == 0)
    }
}
