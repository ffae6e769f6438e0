#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How much memory the system can still give, read from Linux's /proc/meminfo.
///
/// A 1e6-transition Humanoid buffer is about 3 GB; refusing it up front with a
/// message beats being killed by the OOM killer halfway through a run.
public enum MemoryInfo {
    /// MemAvailable in bytes, or nil where /proc/meminfo is missing or has no such line.
    public static func availableBytes(path: String = "/proc/meminfo") -> Int? {
        guard let text = readSmallFile(path) else { return nil }
        return parseAvailableBytes(text)
    }

    /// Extracts MemAvailable from /proc/meminfo's text ("MemAvailable:  123 kB") in bytes.
    public static func parseAvailableBytes(_ meminfo: String) -> Int? {
        for line in meminfo.split(separator: "\n") where line.hasPrefix("MemAvailable:") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2, let value = Int(fields[1]) else { return nil }
            let unit = fields.count >= 3 ? fields[2].lowercased() : ""
            let scale = unit == "kb" ? 1024 : (unit.isEmpty ? 1 : 0)
            guard scale > 0 else { return nil }
            let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
            return overflow ? Int.max : bytes
        }
        return nil
    }

    /// Reads a file of at most a few hundred KiB, or nil if it cannot be opened.
    private static func readSmallFile(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            guard got > 0 else { break }
            bytes.append(contentsOf: chunk[..<got])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
