import Testing
@testable import Transport
@Test func placeholderTransport() {}
