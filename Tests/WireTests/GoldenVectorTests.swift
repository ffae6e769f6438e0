import Testing
@testable import Wire

/// The golden vectors pin the Swift codec to the bytes the Python codec produced from the same
/// spec: a field-order or width disagreement between the two shows up here.
@Suite struct GoldenVectorTests {
    // MARK: - Valid frames

    @Test func vectorsExist() throws {
        let names = try Vectors.names()
        #expect(names.filter { !$0.hasPrefix("bad_") }.count >= 20)
        #expect(names.filter { $0.hasPrefix("bad_") }.count >= 10)
    }

    @Test(arguments: try Vectors.names().filter { !$0.hasPrefix("bad_") })
    func validVectorDecodesToItsDescriptionAndReencodesByteForByte(name: String) throws {
        let bytes = try Vectors.bytes(name)
        let frame = try Frame.decode(bytes)
        let expected = try JSONParser.parse(Array(try Vectors.jsonText(name).utf8))
        let difference = firstDifference(expected, describe(frame))
        #expect(difference == nil, "\(name): \(difference ?? "")")
        #expect(try frame.encode() == bytes, "\(name) does not re-encode byte for byte")
    }

    @Test func theDescriptionComparisonNoticesAChangedValue() throws {
        let expected = try JSONParser.parse(Array(try Vectors.jsonText("transitions_hopper").utf8))
        guard case .transitions(var batch) = try Frame.decode(try Vectors.bytes("transitions_hopper")).message else {
            Issue.record("transitions_hopper is not a TRANSITIONS frame")
            return
        }
        batch.rewards[1] = batch.rewards[1].nextUp
        #expect(firstDifference(expected, describe(Frame(.transitions(batch), requestID: 42))) != nil)
        batch.rewards[1] = batch.rewards[1].nextDown
        #expect(firstDifference(expected, describe(Frame(.transitions(batch), requestID: 42))) == nil)
    }

    // MARK: - Malformed frames

    @Test(arguments: try Vectors.names().filter { $0.hasPrefix("bad_") })
    func malformedVectorRaisesTheExpectedError(name: String) throws {
        let bytes = try Vectors.bytes(name)
        let description = try JSONParser.parse(Array(try Vectors.jsonText(name).utf8))
        guard let expected = description["error"] else {
            Issue.record("\(name).json has no error")
            return
        }
        let error = wireError { () throws(WireError) in try Frame.decode(bytes) }
        #expect(error != nil, "\(name) decoded")
        guard let error else { return }
        #expect(expected["code"] == .string(error.code.name), "\(name): got \(error)")
        if let field = expected["field"] {
            #expect(field == .string(error.field ?? "-"), "\(name): got \(error)")
        }
        if case .number(let index)? = expected["index"] {
            switch error {
            case .nonFinite(_, let got), .invalidValue(_, let got):
                #expect(String(got) == index, "\(name): got \(error)")
            default:
                Issue.record("\(name): expected an indexed error, got \(error)")
            }
        }
    }
}

extension Vectors {
    static func jsonText(_ name: String) throws -> String {
        String(decoding: try bytesOf(name + ".json"), as: UTF8.self)
    }
}
