import Foundation
import Testing
@testable import Telemetry

// MARK: - Scratch directories

/// A fresh directory under the system temporary directory, removed by `remove()`.
struct ScratchDirectory {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "telemetry-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// The names of the files in the directory, sorted.
    func files() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: path).sorted()
    }
}

func readBytes(_ path: String) throws -> [UInt8] {
    Array(try Data(contentsOf: URL(fileURLWithPath: path)))
}

func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex {
        let next = hex.index(index, offsetBy: 2)
        bytes.append(UInt8(hex[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

// MARK: - A protobuf reader for checking what we wrote

/// One field of a protobuf message, as the wire format has it.
enum ProtobufField: Equatable {
    case varint(UInt64)
    case fixed64(UInt64)
    case bytes([UInt8])
    case fixed32(UInt32)
}

/// Splits a protobuf message into (field number, value) pairs; nil on malformed input.
///
/// Independent of the writer on purpose: a reader written from the wire-format
/// description checks the writer, rather than sharing its mistakes.
func protobufFields(_ bytes: [UInt8]) -> [(Int, ProtobufField)]? {
    var fields: [(Int, ProtobufField)] = []
    var index = 0
    func varint() -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count, shift < 64 {
            let byte = bytes[index]
            index += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        return nil
    }
    func littleEndian(_ count: Int) -> UInt64? {
        guard bytes.count - index >= count else { return nil }
        defer { index += count }
        return (0..<count).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[index + $1]) }
    }
    while index < bytes.count {
        guard let key = varint() else { return nil }
        let field = Int(key >> 3)
        switch key & 7 {
        case 0: guard let v = varint() else { return nil }; fields.append((field, .varint(v)))
        case 1: guard let v = littleEndian(8) else { return nil }; fields.append((field, .fixed64(v)))
        case 5: guard let v = littleEndian(4) else { return nil }; fields.append((field, .fixed32(UInt32(v))))
        case 2:
            guard let length = varint(), UInt64(bytes.count - index) >= length else { return nil }
            fields.append((field, .bytes(Array(bytes[index..<index + Int(length)]))))
            index += Int(length)
        default: return nil
        }
    }
    return fields
}

/// What a scalar event holds, read back with `protobufFields`.
struct DecodedScalar: Equatable {
    var wallTime: Double
    var step: Int
    var tag: String
    var value: Float
}

/// Decodes an `Event{wall_time, step, summary{value{tag, simple_value}}}`; nil if it is not one.
func decodeScalarEvent(_ payload: [UInt8]) -> DecodedScalar? {
    guard let event = protobufFields(payload) else { return nil }
    var wallTime: Double?, step = 0, summaryBytes: [UInt8]?
    for (field, value) in event {
        switch (field, value) {
        case let (1, .fixed64(bits)): wallTime = Double(bitPattern: bits)
        case let (2, .varint(raw)): step = Int(Int64(bitPattern: raw))
        case let (5, .bytes(raw)): summaryBytes = raw
        default: break
        }
    }
    guard let wallTime, let summaryBytes,
          let summary = protobufFields(summaryBytes), summary.count == 1,
          case let (1, .bytes(valueBytes)) = summary[0],
          let value = protobufFields(valueBytes) else { return nil }
    var tag: String?, simpleValue: Float?
    for (field, item) in value {
        switch (field, item) {
        case let (1, .bytes(raw)): tag = String(decoding: raw, as: UTF8.self)
        case let (2, .fixed32(bits)): simpleValue = Float(bitPattern: bits)
        default: break
        }
    }
    guard let tag, let simpleValue else { return nil }
    return DecodedScalar(wallTime: wallTime, step: step, tag: tag, value: simpleValue)
}

// MARK: - Processes

struct ProcessResult: Sendable {
    var status: Int32
    var output: String
    var errorOutput: String
}

/// Runs a program found on PATH to completion and collects its output.
///
/// Blocks the calling thread; the programs these tests run are short.
/// Output is read after exit, so the program must print little (< 64 KiB).
func runProcess(_ arguments: [String]) throws -> ProcessResult {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    let errorOutput = Pipe()
    process.standardOutput = output
    process.standardError = errorOutput
    try process.run()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errorOutput.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ProcessResult(
        status: process.terminationStatus,
        output: String(decoding: out, as: UTF8.self),
        errorOutput: String(decoding: err, as: UTF8.self))
}

/// Whether `arguments` runs and exits 0.
func commandSucceeds(_ arguments: [String]) -> Bool {
    (try? runProcess(arguments).status) == 0
}
