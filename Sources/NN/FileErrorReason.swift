import Foundation

/// Why a file operation failed, in the operating system's words ("Permission denied", "Not a
/// directory"), never a Foundation error dump (`Error Domain=NSCocoaErrorDomain Code=513 …`).
///
/// Foundation wraps the POSIX error of a failed read, write or mkdir in an `NSError` of the
/// Cocoa domain; the POSIX error underneath is what a person can act on. Errors of our own
/// types keep their `description`.
public func fileErrorReason(_ error: any Error) -> String {
    if let error = error as? POSIXError { return String(cString: strerror(error.code.rawValue)) }
    if let error = error as? CocoaError, let underlying = error.underlying { return fileErrorReason(underlying) }
    let ns = error as NSError
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if ns.domain == NSCocoaErrorDomain {
        if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError { return fileErrorReason(underlying) }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return String(cString: strerror(ENOENT))
        case .fileReadNoPermission, .fileWriteNoPermission: return String(cString: strerror(EACCES))
        case .fileWriteOutOfSpace: return String(cString: strerror(ENOSPC))
        case .fileWriteVolumeReadOnly: return String(cString: strerror(EROFS))
        case .fileWriteFileExists: return String(cString: strerror(EEXIST))
        default: return "the file system refused it (error \(ns.code))"
        }
    }
    return String(describing: error)
}
