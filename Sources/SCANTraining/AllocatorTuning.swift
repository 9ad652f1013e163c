import CSCANKernels

/// A training step allocates and frees about 600 MB of activations (batch 128 at the paper's
/// sizes). glibc serves large blocks with fresh `mmap`s and returns them on free, so every step
/// would page-fault all of it in again (~150,000 faults, a large share of a step's system time).
/// Keeping freed memory in the heap makes steady-state steps fault-free. Applied once per process,
/// on the first training step.
enum AllocatorTuning {
    static let applied: Bool = scan_allocator_keep_freed_memory() == 1
}
