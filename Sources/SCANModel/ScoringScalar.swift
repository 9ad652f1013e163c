import CSCANKernels
import SCANCore

/// The arithmetic the fast scorer needs, for float32 (default) and float64 (the original's
/// evaluation arithmetic: it multiplies float32 embeddings in float64).
public protocol ScoringScalar: BinaryFloatingPoint, ElementaryFunctionsProvider, Sendable {
    static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     c: UnsafeMutablePointer<Self>, ldc: Int)
    static func rawNorm(_ a: UnsafeMutablePointer<Self>, rows: Int, n: Int, ld: Int, norm: Int32)
    static func columnSoftmax(_ a: UnsafeMutablePointer<Self>, rows: Int, cols: Int, ld: Int, lambda: Self)
    static func columnDot(_ a: UnsafePointer<Self>, lda: Int, _ b: UnsafePointer<Self>, ldb: Int,
                          rows: Int, cols: Int, into out: UnsafeMutablePointer<Self>)
}

extension Float: ScoringScalar {
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            c: UnsafeMutablePointer<Float>, ldc: Int) {
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
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
    public static func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            c: UnsafeMutablePointer<Double>, ldc: Int) {
        BLAS.dgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc)
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
