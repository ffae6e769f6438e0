import Foundation

/// How a Linear layer's weight is initialised (docs/algorithm.md §2.9).
///
/// Biases always get PyTorch's default U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
public enum LinearInitialization: Sendable, Equatable {
    /// Weights 0: the network starts as a state-independent constant (its biases).
    case zero
    /// Weights with orthonormal rows or columns, times `gain`.
    case orthogonal(gain: Double = 1)
    /// PyTorch's nn.Linear default, kaiming_uniform(a = sqrt 5) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
    case pytorchDefault
}

enum Initializer {
    /// U(-1/sqrt(fanIn), 1/sqrt(fanIn)).
    static func pytorchUniform<S: TensorScalar>(_ t: Tensor<S>, fanIn: Int, rng: inout Xoshiro256) {
        let bound = S(1 / Double(fanIn).squareRoot())
        Kernels.fillUniform(t, lower: -bound, upper: bound, rng: &rng)
    }

    /// An orthogonal matrix in the shape of `t` ([rows, cols]), times `gain`.
    ///
    /// As torch.nn.init.orthogonal_: QR of a Gaussian matrix of shape
    /// [max, min] with the signs fixed so R has a positive diagonal (modified
    /// Gram-Schmidt gives exactly that), transposed for wide matrices. Tall
    /// results have W^T W = I, wide ones W W^T = I.
    static func orthogonal<S: TensorScalar>(_ t: Tensor<S>, gain: Double, rng: inout Xoshiro256) {
        let n = Swift.max(t.rows, t.cols), m = Swift.min(t.rows, t.cols)
        // Column-major columns of the [n, m] Gaussian matrix, in Double.
        var columns: [[Double]] = (0..<m).map { _ in (0..<n).map { _ in rng.nextNormalPair().0 } }
        for j in 0..<m {
            for i in 0..<j {
                var dot = 0.0
                for r in 0..<n { dot += columns[i][r] * columns[j][r] }
                for r in 0..<n { columns[j][r] -= dot * columns[i][r] }
            }
            var norm = 0.0
            for r in 0..<n { norm += columns[j][r] * columns[j][r] }
            norm = norm.squareRoot()
            for r in 0..<n { columns[j][r] /= norm }
        }
        for row in 0..<t.rows {
            for col in 0..<t.cols {
                // Tall: W[row, col] = Q[row, col]; wide: W = Q^T.
                let q = t.rows >= t.cols ? columns[col][row] : columns[row][col]
                t[row, col] = S(gain * q)
            }
        }
    }
}
