import Testing
@testable import Tensor
@Test func placeholderTensor() {}
