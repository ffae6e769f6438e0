#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// TEMPORARY: stands in for numpy's `standard_normal` until EnvironmentGenerator becomes
// numpy's PCG64 (with its own `standardNormal()`); delete this file at that merge.
extension EnvironmentGenerator {
    /// A standard normal double (Box-Muller from two uniform draws). Temporary; see above.
    public mutating func standardNormal() -> Double {
        // 1 - u lies in (0, 1], so the log is finite.
        let u1 = 1 - uniform(low: 0, high: 1)
        let u2 = uniform(low: 0, high: 1)
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}
