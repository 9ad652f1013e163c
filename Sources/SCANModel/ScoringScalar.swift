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
    /// Scores one context item against a block of query items (the C kernel `scan_attend_*`).
    static func attend(p: UnsafePointer<Self>, ldp: Int, rows: Int, cols: Int, gram: UnsafePointer<Self>,
                       segments: UnsafePointer<Int64>, segmentCount: Int, queryNorms: UnsafePointer<Self>,
                       norm: Int32, lambda: Self, agg: Int32, lambdaLSE: Self,
                       work: UnsafeMutablePointer<Self>, out: UnsafeMutablePointer<Self>, outStride: Int)
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
    public static func attend(p: UnsafePointer<Float>, ldp: Int, rows: Int, cols: Int, gram: UnsafePointer<Float>,
                              segments: UnsafePointer<Int64>, segmentCount: Int, queryNorms: UnsafePointer<Float>,
                              norm: Int32, lambda: Float, agg: Int32, lambdaLSE: Float,
                              work: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, outStride: Int) {
        scan_attend_f32(p, ldp, rows, cols, gram, segments, segmentCount, queryNorms, norm, lambda, agg, lambdaLSE, work, out, outStride)
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
    public static func attend(p: UnsafePointer<Double>, ldp: Int, rows: Int, cols: Int, gram: UnsafePointer<Double>,
                              segments: UnsafePointer<Int64>, segmentCount: Int, queryNorms: UnsafePointer<Double>,
                              norm: Int32, lambda: Double, agg: Int32, lambdaLSE: Double,
                              work: UnsafeMutablePointer<Double>, out: UnsafeMutablePointer<Double>, outStride: Int) {
        scan_attend_f64(p, ldp, rows, cols, gram, segments, segmentCount, queryNorms, norm, lambda, agg, lambdaLSE, work, out, outStride)
    }
}

extension RawFeatureNorm {
    /// The C kernels' code for this norm (CSCANAttention.h).
    public var kernelCode: Int32 {
        switch self {
        case .clippedL2norm: return Int32(SCAN_NORM_CLIPPED_L2)
        case .l2norm: return Int32(SCAN_NORM_L2)
        case .clippedL1norm: return Int32(SCAN_NORM_CLIPPED_L1)
        case .l1norm: return Int32(SCAN_NORM_L1)
        case .clipped: return Int32(SCAN_NORM_CLIPPED)
        case .noNorm: return Int32(SCAN_NORM_NONE)
        case .softmax: return Int32(SCAN_NORM_SOFTMAX)
        }
    }
}

extension AggFunc {
    /// The C kernels' code for this aggregation (CSCANAttention.h).
    public var kernelCode: Int32 {
        switch self {
        case .logSumExp: return Int32(SCAN_AGG_LOGSUMEXP)
        case .mean: return Int32(SCAN_AGG_MEAN)
        case .max: return Int32(SCAN_AGG_MAX)
        case .sum: return Int32(SCAN_AGG_SUM)
        }
    }
}
