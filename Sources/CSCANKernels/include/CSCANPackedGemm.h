#ifndef CSCAN_PACKED_GEMM_H
#define CSCAN_PACKED_GEMM_H
#include <stddef.h>

/// Floats needed by `scan_pack_f32` for a k x n operand (n rounded up to whole column panels).
size_t scan_packed_size(size_t k, size_t n);

/// Packs op(B) (k x n) once for many `scan_gemm_packed_f32` calls. trans == 0: B is k x n;
/// trans == 1: B is n x k and op(B) = B^T. Row major with leading dimension ldb. The layout is
/// private to this file's kernels; it is the same for every kernel build.
void scan_pack_f32(const float *b, size_t ldb, int trans, size_t k, size_t n, float *packed);

/// C = A * op(B) (accumulate == 0) or C += A * op(B) (accumulate == 1), with A m x k (lda), C m x n
/// (ldc), op(B) packed by `scan_pack_f32`. Single-threaded. Only C's m x n block is written; with
/// k == 0 it is zeroed (or left as is when accumulating). A 64-byte aligned `packed` is fastest.
void scan_gemm_packed_f32(size_t m, size_t n, size_t k, const float *a, size_t lda,
                          const float *packed, int accumulate, float *c, size_t ldc);


#endif
