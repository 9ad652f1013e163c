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

    static func pair(_ first: () -> Void, _ second: () -> Void) {
        guard Parallel.cores >= 2 else {
            first(); second()
            return
        }
        let threads = BLAS.threadCount
        BLAS.setThreadCount(1)
        let suspended = PhaseProfiler.suspended
        PhaseProfiler.suspended = true
        defer {
            PhaseProfiler.suspended = suspended
            BLAS.setThreadCount(threads)
        }
        withoutActuallyEscaping(first) { f in
            withoutActuallyEscaping(second) { s in
                DispatchQueue.concurrentPerform(iterations: 2) { k in
                    if k == 0 { f() } else { s() }
                }
            }
        }
    }
}
