/// A message body that knows its type number and its layout (PROTOCOL.md section 5).
///
/// `read` applies each field's rule as it goes (limits before allocation, values right after
/// their column); `validate` applies the same rules to a value about to be sent.
protocol PayloadCodable: Equatable, Sendable {
    /// The registry value in the frame header.
    static var messageType: MessageType { get }
    /// Throws the error a receiver with `limits` would raise for this message.
    func validate(limits: WireLimits) throws(WireError)
    /// Appends the version-1.0 body (not the extension tail).
    func write(to writer: inout WireWriter)
    /// Reads the version-1.0 body, leaving the reader at the extension tail.
    static func read(from reader: inout WireReader, limits: WireLimits) throws(WireError) -> Self
}
