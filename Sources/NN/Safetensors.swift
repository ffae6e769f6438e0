import Foundation

/// Why a safetensors file could not be read into a parameter store.
public enum SafetensorsError: Error, Equatable, Sendable {
    /// The file ends before the `needed` bytes the header promises.
    case truncated(needed: Int, available: Int)
    /// The 8-byte header length is larger than `maximum`.
    case headerTooLarge(length: UInt64, maximum: Int)
    /// The header is not a JSON object of tensor entries; `reason` says what is wrong.
    case invalidHeader(reason: String)
    /// A parameter of the store is absent from the file.
    case missingTensor(name: String)
    /// The file has a tensor the store does not know.
    case unexpectedTensor(name: String)
    /// A tensor's dtype is not the store's scalar type.
    case dtypeMismatch(name: String, expected: String, found: String)
    /// A tensor's shape differs from the store's.
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    /// A tensor's data_offsets are out of order, out of bounds or of the wrong size.
    case invalidOffsets(name: String, begin: Int, end: Int)
}

extension SafetensorsError: CustomStringConvertible {
    /// What is wrong with the file, in words; the caller names the file.
    public var description: String {
        switch self {
        case let .truncated(needed, available):
            "it is truncated: its header promises \(needed) bytes but it holds \(available)"
        case let .headerTooLarge(length, maximum):
            "its header claims \(length) bytes, more than the \(maximum) accepted (not a safetensors file?)"
        case let .invalidHeader(reason):
            "its header is not valid safetensors: \(reason)"
        case let .missingTensor(name):
            "it has no tensor '\(name)'"
        case let .unexpectedTensor(name):
            "it has a tensor '\(name)' that this network does not have"
        case let .dtypeMismatch(name, expected, found):
            "tensor '\(name)' is \(found), expected \(expected)"
        case let .shapeMismatch(name, expected, found):
            "tensor '\(name)' has shape \(found), this network needs \(expected)"
        case let .invalidOffsets(name, begin, end):
            "tensor '\(name)' has data offsets \(begin)..<\(end) that do not fit the file"
        }
    }
}

/// Reads and writes a `ParameterStore` in the safetensors format.
///
/// Layout: an 8-byte little-endian header length N, N bytes of JSON (padded
/// with spaces to a multiple of 8) mapping each tensor name to
/// {"dtype", "shape", "data_offsets": [begin, end]}, then the raw
/// little-endian data, tensors packed back to back in slot order. Python's
/// `safetensors.numpy.load_file` opens these files.
public enum Safetensors {
    /// Largest header accepted when loading (a forged length cannot allocate more).
    public static let maximumHeaderLength = 16 << 20

    static func dtype<S: TensorScalar>(_: S.Type) -> String { MemoryLayout<S>.size == 4 ? "F32" : "F64" }

    /// The bytes of a safetensors file holding every parameter of `store`.
    public static func encode<S: TensorScalar>(_ store: ParameterStore<S>, metadata: [String: String] = [:]) -> [UInt8] {
        let size = MemoryLayout<S>.size
        var entries: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.sorted { $0.key < $1.key }.map { "\(jsonString($0.key)):\(jsonString($0.value))" }
            entries.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for slot in store.layout.slots {
            let bytes = slot.count * size
            let shape = "[" + slot.savedShape.map(String.init).joined(separator: ",") + "]"
            entries.append("\(jsonString(slot.name)):{\"dtype\":\"\(dtype(S.self))\",\"shape\":\(shape),"
                           + "\"data_offsets\":[\(offset),\(offset + bytes)]}")
            offset += bytes
        }
        var header = Array(("{" + entries.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var file: [UInt8] = []
        file.reserveCapacity(8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(contentsOf: header)
        for slot in store.layout.slots {
            store.values.storage.appendBytes(offset: store.values.offset + slot.offset, count: slot.count, to: &file)
        }
        return file
    }

    /// Writes `store` to `url`.
    public static func save<S: TensorScalar>(_ store: ParameterStore<S>, to url: URL,
                                             metadata: [String: String] = [:]) throws {
        try Data(encode(store, metadata: metadata)).write(to: url, options: .atomic)
    }

    /// Fills `store` from safetensors bytes, checking names, dtypes, shapes and sizes.
    ///
    /// The store is only written once the whole file has been validated.
    public static func decode<S: TensorScalar>(_ bytes: [UInt8], into store: ParameterStore<S>) throws {
        guard bytes.count >= 8 else { throw SafetensorsError.truncated(needed: 8, available: bytes.count) }
        var length: UInt64 = 0
        for i in 0..<8 { length |= UInt64(bytes[i]) << (8 * UInt64(i)) }
        guard length <= UInt64(maximumHeaderLength) else {
            throw SafetensorsError.headerTooLarge(length: length, maximum: maximumHeaderLength)
        }
        let headerEnd = 8 + Int(length)
        guard bytes.count >= headerEnd else { throw SafetensorsError.truncated(needed: headerEnd, available: bytes.count) }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(bytes[8..<headerEnd]))
        } catch {
            throw SafetensorsError.invalidHeader(reason: "not JSON: \(error.localizedDescription)")
        }
        guard var entries = json as? [String: Any] else { throw SafetensorsError.invalidHeader(reason: "not a JSON object") }
        entries["__metadata__"] = nil
        let dataSize = bytes.count - headerEnd
        let size = MemoryLayout<S>.size
        var plan: [(ParameterSlot, Int)] = []
        for slot in store.layout.slots {
            guard let entry = entries.removeValue(forKey: slot.name) else { throw SafetensorsError.missingTensor(name: slot.name) }
            guard let fields = entry as? [String: Any], let dtype = fields["dtype"] as? String,
                  let shape = (fields["shape"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  let offsets = (fields["data_offsets"] as? [Any])?.compactMap({ ($0 as? NSNumber)?.intValue }),
                  offsets.count == 2 else {
                throw SafetensorsError.invalidHeader(reason: "entry \(slot.name) lacks dtype, shape or data_offsets")
            }
            guard dtype == Safetensors.dtype(S.self) else {
                throw SafetensorsError.dtypeMismatch(name: slot.name, expected: Safetensors.dtype(S.self), found: dtype)
            }
            let expected = slot.savedShape
            guard shape == expected else {
                throw SafetensorsError.shapeMismatch(name: slot.name, expected: expected, found: shape)
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, end >= begin, end <= dataSize, end - begin == slot.count * size else {
                throw SafetensorsError.invalidOffsets(name: slot.name, begin: begin, end: end)
            }
            plan.append((slot, headerEnd + begin))
        }
        if let extra = entries.keys.sorted().first { throw SafetensorsError.unexpectedTensor(name: extra) }
        bytes.withUnsafeBytes { raw in
            for (slot, start) in plan {
                let chunk = UnsafeRawBufferPointer(rebasing: raw[start..<(start + slot.count * size)])
                store.values.storage.copyBytes(from: chunk, offset: store.values.offset + slot.offset)
            }
        }
    }

    /// Fills `store` from the file at `url`.
    public static func load<S: TensorScalar>(_ url: URL, into store: ParameterStore<S>) throws {
        try decode([UInt8](Data(contentsOf: url)), into: store)
    }

    static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
