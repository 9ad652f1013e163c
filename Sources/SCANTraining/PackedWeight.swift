import CSCANKernels
import SCANModel

/// A weight operand op(B) (k x n) that many products in a row multiply by: the GRU's W_hh at every
/// time step. OpenBLAS re-packs its operands on every call, which at the GRU's 1..128 alive rows
/// costs as much as a tenth of the product; packed once here, each step runs our single-threaded
/// kernel on the packed panels (CSCANPackedGemm.h). Float only: the Double path (finite-difference
/// tests) calls BLAS as before.
final class PackedWeight<T: TrainScalar> {
    let k: Int, n: Int
    private let source: UnsafePointer<T>
    private let ldb: Int
    private let transposed: Bool
    private let packed: UnsafeMutablePointer<Float>?

    /// op(B) = B (k x n, leading dimension ldb) or, with `transposed`, B^T for B (n x k).
    init(_ b: UnsafePointer<T>, ldb: Int, transposed: Bool, k: Int, n: Int) {
        self.k = k; self.n = n; self.source = b; self.ldb = ldb; self.transposed = transposed
        if T.self == Float.self {
            // Cache-line aligned, so that no panel load straddles two lines.
            let count = scan_packed_size(k, n)
            let p = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
                .bindMemory(to: Float.self, capacity: count)
            b.withMemoryRebound(to: Float.self, capacity: 1) { fb in
                scan_pack_f32(fb, ldb, transposed ? 1 : 0, k, n, p)
            }
            packed = p
        } else {
            packed = nil
        }
    }

    deinit { packed?.deallocate() }

    /// C (m x n) = A (m x k) op(B), or C += A op(B) when `accumulate`.
    func multiply(m: Int, a: UnsafePointer<T>, lda: Int, accumulate: Bool, c: UnsafeMutablePointer<T>, ldc: Int) {
        if m == 0 { return }
        if let packed {
            a.withMemoryRebound(to: Float.self, capacity: 1) { fa in
                c.withMemoryRebound(to: Float.self, capacity: 1) { fc in
                    scan_gemm_packed_f32(m, n, k, fa, lda, packed, accumulate ? 1 : 0, fc, ldc)
                }
            }
        } else {
            T.gemm(transA: false, transB: transposed, m: m, n: n, k: k, alpha: 1, a: a, lda: lda,
                   b: source, ldb: ldb, beta: accumulate ? 1 : 0, c: c, ldc: ldc)
        }
    }
}
