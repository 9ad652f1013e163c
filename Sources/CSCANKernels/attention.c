// Per-pair kernels of the exact cross-attention shortcut (DESIGN §5): everything after the big
// region-word product is column-wise softmax and dot products, vectorised here across columns.
#include "CSCANAttention.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define SCAN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SCAN_CLONES
#endif

// expf with ~1 ulp error, branch-free so that loops over it vectorise (Cephes-style reduction).
static inline float scan_expf(float x) {
    x = x < -87.3f ? -87.3f : (x > 88.3f ? 88.3f : x);
    float n = __builtin_floorf(x * 1.44269504088896341f + 0.5f);
    float r = x - n * 0.693359375f;
    r = r + n * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    int e = (int)n + 127;
    union { int i; float f; } u;
    u.i = e << 23;
    return p * u.f;
}

#define DEFINE_RAWNORM(NAME, T, EXP, SQRT, FABS)                                      \
SCAN_CLONES void NAME(T *a, size_t rows, size_t n, size_t ld, int norm) {              \
    for (size_t r = 0; r < rows; r++) {                                                \
        T *x = a + r * ld;                                                             \
        if (norm == SCAN_NORM_CLIPPED_L2 || norm == SCAN_NORM_CLIPPED_L1 ||            \
            norm == SCAN_NORM_CLIPPED) {                                               \
            for (size_t i = 0; i < n; i++) x[i] = x[i] < 0 ? x[i] * (T)0.1 : x[i];     \
        }                                                                              \
        if (norm == SCAN_NORM_CLIPPED_L2 || norm == SCAN_NORM_L2) {                    \
            T ss = 0;                                                                  \
            for (size_t i = 0; i < n; i++) ss += x[i] * x[i];                          \
            T d = SQRT(ss) + (T)1e-8;                                                  \
            for (size_t i = 0; i < n; i++) x[i] /= d;                                  \
        } else if (norm == SCAN_NORM_CLIPPED_L1 || norm == SCAN_NORM_L1) {             \
            T s = 0;                                                                   \
            for (size_t i = 0; i < n; i++) s += FABS(x[i]);                            \
            T d = s + (T)1e-8;                                                         \
            for (size_t i = 0; i < n; i++) x[i] /= d;                                  \
        } else if (norm == SCAN_NORM_SOFTMAX) {                                        \
            T m = x[0];                                                                \
            for (size_t i = 1; i < n; i++) m = x[i] > m ? x[i] : m;                    \
            T s = 0;                                                                   \
            for (size_t i = 0; i < n; i++) { x[i] = EXP(x[i] - m); s += x[i]; }        \
            for (size_t i = 0; i < n; i++) x[i] /= s;                                  \
        }                                                                              \
    }                                                                                  \
}

DEFINE_RAWNORM(scan_rawnorm_f32, float, scan_expf, sqrtf, fabsf)
DEFINE_RAWNORM(scan_rawnorm_f64, double, exp, sqrt, fabs)

// Column softmax works on blocks of columns so that the running max and sum stay in registers
// and the inner loops run across contiguous columns.
#define SOFTMAX_BLOCK 256
#define DEFINE_COLUMN_SOFTMAX(NAME, T, EXP)                                                \
SCAN_CLONES void NAME(T *a, size_t rows, size_t cols, size_t ld, T lambda) {                \
    T mx[SOFTMAX_BLOCK], sum[SOFTMAX_BLOCK];                                                \
    for (size_t c0 = 0; c0 < cols; c0 += SOFTMAX_BLOCK) {                                   \
        size_t nc = cols - c0 < SOFTMAX_BLOCK ? cols - c0 : SOFTMAX_BLOCK;                  \
        T *base = a + c0;                                                                   \
        for (size_t c = 0; c < nc; c++) { mx[c] = lambda * base[c]; sum[c] = 0; }           \
        for (size_t r = 1; r < rows; r++) {                                                 \
            const T *row = base + r * ld;                                                   \
            for (size_t c = 0; c < nc; c++) { T v = lambda * row[c]; mx[c] = v > mx[c] ? v : mx[c]; } \
        }                                                                                   \
        for (size_t r = 0; r < rows; r++) {                                                 \
            T *row = base + r * ld;                                                         \
            for (size_t c = 0; c < nc; c++) { T e = EXP(lambda * row[c] - mx[c]); row[c] = e; sum[c] += e; } \
        }                                                                                   \
        for (size_t c = 0; c < nc; c++) sum[c] = (T)1 / sum[c];                             \
        for (size_t r = 0; r < rows; r++) {                                                 \
            T *row = base + r * ld;                                                         \
            for (size_t c = 0; c < nc; c++) row[c] *= sum[c];                               \
        }                                                                                   \
    }                                                                                       \
}

DEFINE_COLUMN_SOFTMAX(scan_column_softmax_f32, float, scan_expf)
DEFINE_COLUMN_SOFTMAX(scan_column_softmax_f64, double, exp)

#define DEFINE_COLUMN_DOT(NAME, T)                                                         \
SCAN_CLONES void NAME(const T *a, size_t lda, const T *b, size_t ldb, size_t rows, size_t cols, T *out) { \
    for (size_t c = 0; c < cols; c++) out[c] = 0;                                          \
    for (size_t r = 0; r < rows; r++) {                                                    \
        const T *x = a + r * lda, *y = b + r * ldb;                                        \
        for (size_t c = 0; c < cols; c++) out[c] += x[c] * y[c];                           \
    }                                                                                      \
}

DEFINE_COLUMN_DOT(scan_column_dot_f32, float)
DEFINE_COLUMN_DOT(scan_column_dot_f64, double)
