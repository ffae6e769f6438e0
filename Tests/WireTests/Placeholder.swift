import Testing
@testable import Wire
@Test func placeholderWire() {}
