import Dispatch
import SCANModel

/// Runs two independent pieces of work at once, one per core, each with single-threaded BLAS.
///
/// OpenBLAS splits a product over its threads along one dimension; the GRU's per-step products
/// (alive captions x 3H x H, at most 128 rows) gain little from two threads, so the two GRU
/// directions run side by side instead, each on its own core. OpenBLAS's thread count is global:
/// it is set to 1 for the duration and restored afterwards (nothing else may call BLAS meanwhile).
enum ConcurrentBLAS {
    /// Runs `body` over `0..<count` in about `Parallel.cores` contiguous chunks at once, with
    /// single-threaded BLAS: for loops of many small products (per image, per caption), which
    /// OpenBLAS would otherwise split into pieces too small to pay for the threads.
    static func forChunks(_ count: Int, _ body: (Range<Int>) -> Void) {
        guard Parallel.cores >= 2, count >= 2 else {
            if count > 0 { body(0..<count) }
            return
        }
        let threads = BLAS.threadCount
        BLAS.setThreadCount(1)
        defer { BLAS.setThreadCount(threads) }
        Parallel.forChunks(count, body)
    }

    /// C = alpha op(A) op(B) + beta C, row major, with the rows of C split over the cores, each part
    /// a single-threaded product. Two independent products run as fast as one shared one here, and
    /// no idle OpenBLAS thread is left spinning (sched_yield) into the next phase, which runs on our
    /// own threads (the GRU directions, the per-pair work): that spinning cost ~5% of a step.
    static func gemm<T: TrainScalar>(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: T,
                                     a: UnsafePointer<T>, lda: Int, b: UnsafePointer<T>, ldb: Int,
                                     beta: T, c: UnsafeMutablePointer<T>, ldc: Int) {
        forChunks(m) { rows in
            T.gemm(transA: transA, transB: transB, m: rows.count, n: n, k: k, alpha: alpha,
                   a: transA ? a + rows.lowerBound : a + rows.lowerBound * lda, lda: lda, b: b, ldb: ldb,
                   beta: beta, c: c + rows.lowerBound * ldc, ldc: ldc)
        }
    }

    static func pair(_ first: () -> Void, _ second: () -> Void) {
        guard Parallel.cores >= 2 else {
            first(); second()
            return
        }
        let threads = BLAS.threadCount
        BLAS.setThreadCount(1)
        defer { BLAS.setThreadCount(threads) }
        PhaseProfiler.suspended {
            withoutActuallyEscaping(first) { f in
                withoutActuallyEscaping(second) { s in
                    DispatchQueue.concurrentPerform(iterations: 2) { k in
                        if k == 0 { f() } else { s() }
                    }
                }
            }
        }
    }
}
