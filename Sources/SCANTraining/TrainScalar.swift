import Foundation
import SCANModel

/// The arithmetic the training code is generic over: Float for training, Double for the
/// finite-difference checks of every backward pass. Matrix products go to BLAS (sgemm / dgemm).
///
/// All generic training code is specialised for Float inside this module (whole-module
/// optimisation), so the generic layer costs nothing on the training path.
public protocol TrainScalar: BinaryFloatingPoint, ElementaryFunctionsProvider, Sendable {
    /// C = alpha * op(A) * op(B) + beta * C, row major. `op(A)` is m x k, `op(B)` is k x n, C is m x n.
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func tanh(_ x: Self) -> Self
}

extension Float: TrainScalar {
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if k == 0 {
            // BLAS leaves C alone for k = 0 only if beta = 1; make the contract explicit.
            if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
            return
        }
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    @inlinable public static func tanh(_ x: Float) -> Float { Foundation.tanhf(x) }
}

extension Double: TrainScalar {
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if k == 0 {
            if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
            return
        }
        BLAS.dgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
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
