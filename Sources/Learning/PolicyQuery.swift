import Foundation
import MEow
import Tensor

/// Why an observation file could not be read; `description` is one sentence naming the file.
public enum ObservationFileError: Error, Equatable, CustomStringConvertible {
    /// The file could not be opened or read.
    case unreadable(path: String, reason: String)
    /// The contents are not a table of observations; `reason` says where and what.
    case invalid(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadable(path, reason): "Cannot read observations from \(path): \(reason)."
        case let .invalid(path, reason): "Observations file \(path) \(reason)."
        }
    }
}

/// A table of observations, one per row: what `meow act` feeds a saved policy.
///
/// Two formats, told apart by the extension: NumPy's `.npy` (little-endian float32 or
/// float64, C order, shape [n, ds], or [ds] for one observation) and `.csv` (ds numbers per
/// line, separated by commas; blank lines and lines starting with `#` are skipped).
public struct ObservationTable: Equatable, Sendable {
    /// Row-major [count × dimension].
    public var values: [Float]
    public var count: Int
    public var dimension: Int

    /// Largest .npy header read (NumPy writes well under 1 KiB).
    static let maximumNPYHeader = 1 << 16

    /// Reads `path`, which must hold rows of exactly `dimension` numbers.
    public static func load(path: String, dimension: Int) throws(ObservationFileError) -> ObservationTable {
        let bytes: [UInt8]
        do {
            bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw .unreadable(path: path, reason: error.localizedDescription)
        }
        let table = path.lowercased().hasSuffix(".npy")
            ? try npy(bytes, path: path, dimension: dimension) : try csv(bytes, path: path, dimension: dimension)
        if table.count == 0 { throw .invalid(path: path, reason: "holds no observations") }
        if let bad = table.values.firstIndex(where: { !$0.isFinite }) {
            throw .invalid(path: path, reason: "holds a non-finite value in row \(bad / dimension + 1)")
        }
        return table
    }

    /// Parses NumPy's format: magic, version, header length, a Python-literal header, raw data.
    static func npy(_ bytes: [UInt8], path: String, dimension: Int) throws(ObservationFileError) -> ObservationTable {
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw .invalid(path: path, reason: "is not a NumPy .npy file (no \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let lengthBytes = major == 1 ? 2 : 4
        guard (1...3).contains(major), bytes.count >= 8 + lengthBytes else {
            throw .invalid(path: path, reason: "has .npy format version \(major), expected 1, 2 or 3")
        }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        let dataStart = 8 + lengthBytes + headerLength
        guard headerLength <= maximumNPYHeader, dataStart <= bytes.count else {
            throw .invalid(path: path, reason: "has a .npy header of \(headerLength) bytes that the file does not hold")
        }
        let header = String(decoding: bytes[(8 + lengthBytes)..<dataStart], as: UTF8.self)
        func field(_ key: String) -> String? {
            guard let range = header.range(of: "'\(key)':") else { return nil }
            return String(header[range.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descr = field("descr"), let fortran = field("fortran_order"), let shapeText = field("shape"),
              let open = shapeText.firstIndex(of: "("), let close = shapeText.firstIndex(of: ")") else {
            throw .invalid(path: path, reason: "has a .npy header without descr, fortran_order or shape")
        }
        let width: Int
        if descr.hasPrefix("'<f4'") { width = 4 } else if descr.hasPrefix("'<f8'") { width = 8 } else {
            throw .invalid(path: path, reason: "holds dtype \(descr.prefix(6)); save float32 or float64 observations")
        }
        guard fortran.hasPrefix("False") else {
            throw .invalid(path: path, reason: "is in Fortran order; save it with numpy.ascontiguousarray first")
        }
        let shape = shapeText[shapeText.index(after: open)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }.map { Int($0) }
        guard !shape.contains(nil), let dims = Optional(shape.compactMap { $0 }), (1...2).contains(dims.count) else {
            throw .invalid(path: path, reason: "has shape (\(shape.map { $0.map(String.init) ?? "?" }.joined(separator: ", "))), expected [n, \(dimension)] or [\(dimension)]")
        }
        let rows = dims.count == 2 ? dims[0] : 1
        guard dims.last == dimension, rows >= 0 else {
            throw .invalid(path: path, reason: "has rows of \(dims.last ?? 0) values; the policy takes observations of \(dimension)")
        }
        let (total, overflow) = rows.multipliedReportingOverflow(by: dimension)
        guard !overflow, bytes.count - dataStart == total * width else {
            throw .invalid(path: path, reason: "holds \(bytes.count - dataStart) data bytes, its shape says \(rows) × \(dimension) × \(width)")
        }
        var values = [Float](repeating: 0, count: total)
        for i in 0..<total {
            var raw: UInt64 = 0
            for b in 0..<width { raw |= UInt64(bytes[dataStart + i * width + b]) << (8 * UInt64(b)) }
            values[i] = width == 4 ? Float(bitPattern: UInt32(raw)) : Float(Double(bitPattern: raw))
        }
        return ObservationTable(values: values, count: rows, dimension: dimension)
    }

    /// Parses comma-separated rows of numbers.
    static func csv(_ bytes: [UInt8], path: String, dimension: Int) throws(ObservationFileError) -> ObservationTable {
        var values: [Float] = []
        var count = 0
        for (index, line) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty || text.hasPrefix("#") { continue }
            let fields = text.split(separator: ",", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == dimension else {
                throw .invalid(path: path, reason: "has \(fields.count) values on line \(index + 1); the policy takes observations of \(dimension)")
            }
            for field in fields {
                guard let value = Float(field) else {
                    throw .invalid(path: path, reason: "has \"\(field)\" on line \(index + 1), which is not a number")
                }
                values.append(value)
            }
            count += 1
        }
        return ObservationTable(values: values, count: count, dimension: dimension)
    }
}

/// What a saved policy says about one observation: `meow act`'s line.
public struct PolicyAnswer: Equatable, Sendable {
    /// In [−1, 1], the policy's normalised action.
    public var action: [Float]
    /// Soft Q(s, a) of that action (min over the heads, docs/algorithm.md §3.1).
    public var q: Float
    /// Soft V(s) (min over the heads, docs/algorithm.md §3.2).
    public var v: Float

    /// One JSON object: {"action": [...], "q": ..., "v": ...}; a non-finite number is null.
    public var json: String {
        func number(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
        return "{\"action\":[\(action.map(number).joined(separator: ","))],\"q\":\(number(q)),\"v\":\(number(v))}"
    }
}

extension MEowAgent {
    /// Action, soft Q and soft V for every row of `table`, in one batch each.
    ///
    /// Deterministic actions take z₀ = 0 (docs/algorithm.md §3.5); stochastic ones draw ε from `rng`.
    public func answer(_ table: ObservationTable, deterministic: Bool, rng: inout Xoshiro256) -> [PolicyAnswer] {
        let actions = act(observations: table.values, count: table.count, deterministic: deterministic, rng: &rng)
        let q = qValues(observations: table.values, actions: actions, count: table.count)
        let v = values(observations: table.values, count: table.count)
        let d = actionDimension
        return (0..<table.count).map { i in
            PolicyAnswer(action: Array(actions[(i * d)..<((i + 1) * d)]), q: q[i], v: v[i])
        }
    }
}
