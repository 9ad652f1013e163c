import Foundation
import SCANModel

/// The arithmetic the training code is generic over: Float for training, Double for the
/// finite-difference checks of every backward pass. Matrix products go to BLAS (sgemm / dgemm)
/// through `ScoringScalar.gemm`, shared with the scorer.
///
/// All generic training code is specialised for Float inside this module (whole-module
/// optimisation), so the generic layer costs nothing on the training path.
public protocol TrainScalar: ScoringScalar {
    static func tanh(_ x: Self) -> Self
}

extension Float: TrainScalar {
    @inlinable public static func tanh(_ x: Float) -> Float { Foundation.tanhf(x) }
}

extension Double: TrainScalar {
    @inlinable public static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
}

/// Small helpers over raw buffers shared by the layers.
enum Buffers {
    @inline(__always)
    static func sigmoid<T: TrainScalar>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }

    /// Adds the sum of the `rows` rows of `x` (rows x dim, row stride `ld`) into `out` (dim).
    static func addColumnSums<T: TrainScalar>(_ x: UnsafePointer<T>, rows: Int, dim: Int, ld: Int, into out: UnsafeMutablePointer<T>) {
        for r in 0..<rows {
            let p = x + r * ld
            for k in 0..<dim { out[k] += p[k] }
        }
    }
}
