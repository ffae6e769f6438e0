import Foundation
import Testing

@testable import Learning

/// `ObservationTable` (what `meow act` reads) and `PolicyAnswer`'s JSON line.
@Suite struct PolicyQueryTests {
    private static func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("meow-\(UUID().uuidString)-\(name)").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A version-1 .npy file as NumPy lays it out: magic, version, u16 header length, header, data.
    private static func npy(descr: String, shape: String, data: [UInt8]) -> [UInt8] {
        var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
            + header + data
    }

    private static func littleEndian<T: FixedWidthInteger>(_ values: [T]) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }

    // MARK: - .npy

    @Test func float32RowsAndOneFloat64RowAreRead() throws {
        let values: [Float] = [1, -2.5, 3, 0.25, 5, -6]
        let f32 = try Self.write(Self.npy(descr: "<f4", shape: "(2, 3)", data: Self.littleEndian(values.map(\.bitPattern))),
                                 "a.npy")
        #expect(try ObservationTable.load(path: f32, dimension: 3) == ObservationTable(values: values, count: 2, dimension: 3))
        let f64 = try Self.write(Self.npy(descr: "<f8", shape: "(3,)", data: Self.littleEndian([0.5, -1.0, 2.0].map(\.bitPattern))),
                                 "b.npy")
        #expect(try ObservationTable.load(path: f64, dimension: 3) == ObservationTable(values: [0.5, -1, 2], count: 1, dimension: 3))
    }

    @Test func npyFilesThatDoNotFitAreRefusedNamingTheFile() throws {
        let wrongWidth = try Self.write(Self.npy(descr: "<f4", shape: "(1, 2)", data: [UInt8](repeating: 0, count: 8)), "w.npy")
        #expect(throws: ObservationFileError.invalid(
            path: wrongWidth, reason: "has rows of 2 values; the policy takes observations of 3")) {
            try ObservationTable.load(path: wrongWidth, dimension: 3)
        }
        let short = try Self.write(Self.npy(descr: "<f4", shape: "(4, 3)", data: [UInt8](repeating: 0, count: 12)), "s.npy")
        #expect(throws: ObservationFileError.invalid(path: short, reason: "holds 12 data bytes, its shape says 4 × 3 × 4")) {
            try ObservationTable.load(path: short, dimension: 3)
        }
        let ints = try Self.write(Self.npy(descr: "<i8", shape: "(1, 3)", data: [UInt8](repeating: 0, count: 24)), "i.npy")
        #expect(throws: ObservationFileError.self) { try ObservationTable.load(path: ints, dimension: 3) }
        let notNPY = try Self.write(Array("1,2,3".utf8), "n.npy")
        #expect(throws: ObservationFileError.invalid(path: notNPY, reason: "is not a NumPy .npy file (no \\x93NUMPY magic)")) {
            try ObservationTable.load(path: notNPY, dimension: 3)
        }
    }

    // MARK: - .csv

    @Test func csvRowsSkipCommentsAndBlankLines() throws {
        let path = try Self.write(Array("# s0, s1\n1, 2\n\n-3.5,4e-1\n".utf8), "o.csv")
        #expect(try ObservationTable.load(path: path, dimension: 2) == ObservationTable(values: [1, 2, -3.5, 0.4], count: 2, dimension: 2))
    }

    @Test func csvRowsThatDoNotFitAreRefusedWithTheirLine() throws {
        let wide = try Self.write(Array("1,2\n1,2,3\n".utf8), "w.csv")
        #expect(throws: ObservationFileError.invalid(
            path: wide, reason: "has 3 values on line 2; the policy takes observations of 2")) {
            try ObservationTable.load(path: wide, dimension: 2)
        }
        let word = try Self.write(Array("1,x\n".utf8), "x.csv")
        #expect(throws: ObservationFileError.invalid(path: word, reason: "has \"x\" on line 1, which is not a number")) {
            try ObservationTable.load(path: word, dimension: 2)
        }
        let empty = try Self.write(Array("# nothing\n".utf8), "e.csv")
        #expect(throws: ObservationFileError.invalid(path: empty, reason: "holds no observations")) {
            try ObservationTable.load(path: empty, dimension: 2)
        }
        let infinite = try Self.write(Array("1,2\ninf,0\n".utf8), "i.csv")
        #expect(throws: ObservationFileError.invalid(path: infinite, reason: "holds a non-finite value in row 2")) {
            try ObservationTable.load(path: infinite, dimension: 2)
        }
    }

    // MARK: - Output

    @Test func anAnswerIsOneJSONObject() throws {
        let line = PolicyAnswer(action: [0.5, -1], q: -2.25, v: .nan).json
        #expect(line == "{\"action\":[0.5,-1.0],\"q\":-2.25,\"v\":null}")
        #expect(try JSONSerialization.jsonObject(with: Data(line.utf8)) is [String: Any])
    }
}
