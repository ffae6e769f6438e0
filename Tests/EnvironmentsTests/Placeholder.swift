import Testing
@testable import Environments
@Test func placeholderEnvironments() {}
