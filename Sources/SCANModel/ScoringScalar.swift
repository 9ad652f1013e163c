import CSCANKernels
import SCANCore

/// The arithmetic the fast scorer needs, for float32 (default) and float64 (the original's
/// evaluation arithmetic: it multiplies float32 embeddings in float64). Training builds on it too.
public protocol ScoringScalar: BinaryFloatingPoint, ElementaryFunctionsProvider, Sendable {
    /// C = alpha * op(A) * op(B) + beta * C, row major. `op(A)` is m x k, `op(B)` is k x n, C is m x n.
    /// With k = 0, C becomes beta * C (BLAS would leave it alone).
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    static func rawNorm(_ a: UnsafeMutablePointer<Self>, rows: Int, n: Int, ld: Int, norm: Int32)
    static func columnSoftmax(_ a: UnsafeMutablePointer<Self>, rows: Int, cols: Int, ld: Int, lambda: Self)
    static func columnDot(_ a: UnsafePointer<Self>, lda: Int, _ b: UnsafePointer<Self>, ldb: Int,
                          rows: Int, cols: Int, into out: UnsafeMutablePointer<Self>)
}

extension ScoringScalar {
    /// C = op(A) * op(B).
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                            c: UnsafeMutablePointer<Self>, ldc: Int) {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
    }

    /// The k = 0 case of gemm, which BLAS treats as "leave C alone".
    @inlinable
    static func scaleForEmptyProduct(m: Int, n: Int, beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int) {
        if beta != 1 { for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } } }
    }
}

extension Float: ScoringScalar {
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if k == 0 { return scaleForEmptyProduct(m: m, n: n, beta: beta, c: c, ldc: ldc) }
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    public static func rawNorm(_ a: UnsafeMutablePointer<Float>, rows: Int, n: Int, ld: Int, norm: Int32) {
        scan_rawnorm_f32(a, rows, n, ld, norm)
    }
    public static func columnSoftmax(_ a: UnsafeMutablePointer<Float>, rows: Int, cols: Int, ld: Int, lambda: Float) {
        scan_column_softmax_f32(a, rows, cols, ld, lambda)
    }
    public static func columnDot(_ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                                 rows: Int, cols: Int, into out: UnsafeMutablePointer<Float>) {
        scan_column_dot_f32(a, lda, b, ldb, rows, cols, out)
    }
}

extension Double: ScoringScalar {
    @inlinable
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        if k == 0 { return scaleForEmptyProduct(m: m, n: n, beta: beta, c: c, ldc: ldc) }
        BLAS.dgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
                   a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }
    public static func rawNorm(_ a: UnsafeMutablePointer<Double>, rows: Int, n: Int, ld: Int, norm: Int32) {
        scan_rawnorm_f64(a, rows, n, ld, norm)
    }
    public static func columnSoftmax(_ a: UnsafeMutablePointer<Double>, rows: Int, cols: Int, ld: Int, lambda: Double) {
        scan_column_softmax_f64(a, rows, cols, ld, lambda)
    }
    public static func columnDot(_ a: UnsafePointer<Double>, lda: Int, _ b: UnsafePointer<Double>, ldb: Int,
                                 rows: Int, cols: Int, into out: UnsafeMutablePointer<Double>) {
        scan_column_dot_f64(a, lda, b, ldb, rows, cols, out)
    }
}

extension RawFeatureNorm {
    /// The C kernels' code for this norm (CSCANAttention.h).
    var kernelCode: Int32 {
        switch self {
        case .clippedL2norm: return 0
        case .l2norm: return 1
        case .clippedL1norm: return 2
        case .l1norm: return 3
        case .clipped: return 4
        case .noNorm: return 5
        case .softmax: return 6
        }
    }
}
