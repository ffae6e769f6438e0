/// Writes scalars to `metrics.csv` as `step,tag,value` rows.
///
/// For people who read curves with pandas or a spreadsheet. Values are printed
/// with Swift's shortest round-trip formatting, so parsing a row gives back
/// the exact Float (`inf`, `-inf` and `nan` included, as Python's `float()`
/// reads them). An existing file is appended to (a resumed run continues its
/// curves); the header is written only to a new, empty file.
public final class CSVScalarWriter: ScalarLogger {
    /// The header line, exactly.
    public static let header = "step,tag,value"

    /// The CSV file's full path.
    public let path: String
    private let file: BackgroundFileWriter

    /// Creates `directory` if needed and opens `directory/metrics.csv` for appending.
    public init(directory: String, flushInterval: Duration = .seconds(5)) throws(TelemetryError) {
        try createDirectory(directory)
        file = try BackgroundFileWriter(path: "\(directory)/metrics.csv", flushInterval: flushInterval)
        path = file.path
        if file.fileIsEmpty { file.append(Array("\(Self.header)\n".utf8)) }
    }

    public func log(tag: String, value: Float, step: Int) {
        file.append(Array(Self.row(tag: tag, value: value, step: step).utf8))
    }

    /// Text has no column here; the TensorBoard file keeps it.
    public func text(tag: String, markdown: String, step: Int) {}

    public func flush() throws(TelemetryError) {
        try file.flush()
    }

    public func close() throws(TelemetryError) {
        try file.close()
    }

    /// Rows dropped because the disk could not keep up.
    public var droppedRows: Int { file.currentStatistics.droppedAppends }

    deinit {
        try? file.close()
    }

    /// One CSV line (with its newline); tags holding `,`, `"` or line breaks are quoted as RFC 4180 says.
    static func row(tag: String, value: Float, step: Int) -> String {
        "\(step),\(quoted(tag)),\(value.description)\n"
    }

    private static func quoted(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
