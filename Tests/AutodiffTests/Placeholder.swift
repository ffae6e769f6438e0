import Testing
@testable import Autodiff
@Test func placeholderAutodiff() {}
