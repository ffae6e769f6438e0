import Testing
@testable import MEow
@Test func placeholderMEow() {}
