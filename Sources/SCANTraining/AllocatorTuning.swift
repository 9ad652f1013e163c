#if canImport(Glibc)
import Glibc
#endif

/// A training step allocates and frees about 600 MB of activations (batch 128 at the paper's
/// sizes). glibc serves blocks above 32 MB (and, by default, above 128 KB) with fresh `mmap`s and
/// returns them on free, so every step page-faults all of it in again (~150,000 faults, a large
/// share of a step's system time). Keeping freed memory in the heap instead makes steady-state
/// steps fault-free. Applied once per process, on the first training step; it only changes where
/// glibc takes memory from (freed memory is kept for reuse instead of being unmapped).
enum AllocatorTuning {
    static let applied: Bool = {
        #if canImport(Glibc)
        // mallopt is not imported by the Glibc module: look it up.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        guard let sym = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return false }
        let mallopt = unsafeBitCast(sym, to: Mallopt.self)
        // M_MMAP_MAX = -4: no allocation is served by its own mmap; M_TRIM_THRESHOLD = -1: keep
        // up to 1 GiB of free memory at the top of the heap.
        _ = mallopt(-4, 0)
        _ = mallopt(-1, 1 << 30)
        #endif
        return true
    }()
}
