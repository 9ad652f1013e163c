#ifndef CSCAN_KERNELS_H
#define CSCAN_KERNELS_H
#include <stddef.h>
#include <stdint.h>
#include "CSCANAttention.h"
#include "CSCANPackedGemm.h"
#include "CSCANAllocator.h"
#include "CSCANQuantization.h"
#include "CSCANFastScan.h"

/// 1 when the running CPU has AVX-512F, else 0.
int scan_cpu_has_avx512f(void);
/// 1 when the running CPU has AVX2 and FMA, else 0.
int scan_cpu_has_avx2(void);

/// Which build of the vector kernels (attention, packed gemm) runs: 1 = AVX2+FMA (also on AVX-512
/// CPUs), 0 = baseline vectors. Chosen by the CPU once.
int scan_vector_build(void);
/// Tests: force a build (0, or 1 where the CPU has AVX2+FMA), or -1 to choose by the CPU again.
void scan_force_vector_build(int build);

/// IEEE half <-> single conversion of n values (round to nearest even).
void scan_f16_to_f32(const uint16_t *src, float *dst, size_t n);
void scan_f32_to_f16(const float *src, uint16_t *dst, size_t n);
/// The portable scalar conversions, for tests of the vector path.
void scan_f16_to_f32_reference(const uint16_t *src, float *dst, size_t n);
void scan_f32_to_f16_reference(const float *src, uint16_t *dst, size_t n);

/// sum_i a[i] * b[i], accumulated in float.
float scan_dot(const float *a, const float *b, size_t n);
/// sum_i a[i] * b[i], accumulated in double.
double scan_dot_f64acc(const float *a, const float *b, size_t n);
/// Asks the CPU to load the n bytes at p into cache ahead of use (reads of scattered records: the
/// loads of several records overlap instead of waiting one after the other).
void scan_prefetch(const void *p, size_t n);
/// y[i] += alpha * x[i]
void scan_axpy(float alpha, const float *x, float *y, size_t n);

#endif
