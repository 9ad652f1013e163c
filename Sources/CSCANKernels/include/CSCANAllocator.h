#ifndef CSCAN_ALLOCATOR_H
#define CSCAN_ALLOCATOR_H

/// Makes the C allocator keep freed memory for reuse instead of returning it to the system: with
/// glibc, blocks under 1 GiB come from the heap (no mmap of their own) and up to 1 GiB of free
/// memory stays at the top of the heap. Training steps and searches allocate and free tens to
/// hundreds of MB per step or query; fresh pages would cost page faults and zeroing each time.
/// Returns 1 when applied, 0 where the allocator has no such settings. Safe to call repeatedly.
int scan_allocator_keep_freed_memory(void);

#endif
