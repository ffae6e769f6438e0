/// Comparison that takes the same time wherever the inputs first differ.
public enum ConstantTime {
    /// Whether `a` equals `b`; the time depends only on the longer length, so a wrong
    /// token does not reveal how many of its leading bytes were right.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference: UInt8 = a.count == b.count ? 0 : 1
        for index in 0 ..< max(a.count, b.count) {
            let x = index < a.count ? a[index] : 0
            let y = index < b.count ? b[index] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
