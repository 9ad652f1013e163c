// A single-threaded sgemm against an operand packed once (the GRU's W_hh, reused by every time
// step of a batch): OpenBLAS re-packs its B on every call, which for the short, skinny products of
// a recurrence is a tenth of the work. C = A * op(B) with A read in place (its rows are few and
// stay in L2), op(B) in 16-column panels cut into k-blocks of SCAN_KC rows.
//
// Packed layout: k-blocks outermost, then the panels of that k-block, each panel block kcb x 16
// floats row by row (kcb = SCAN_KC except in the last k-block). The kernel walks the packed
// buffer in exactly this order, so it streams through memory once per call; one panel block
// (16 KB) stays in L1 while every row block of A is multiplied by it.
#include "CSCANKernels.h"
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define SCAN_X86 1
#define SCAN_AVX2 __attribute__((target("arch=x86-64-v3")))
#endif
#define INLINE static inline __attribute__((always_inline))

// Panel width: two AVX2 vectors, so that a 6-row tile holds 12 accumulators in 16 registers.
#define SCAN_NR 16
// k-block: a panel block of 256 x 16 floats (16 KB) plus six rows of A (6 KB) fit in L1.
#define SCAN_KC 256
// Rows of A per pass over the panels of a k-block: 144 x 256 floats (144 KB) stay in L2.
#define SCAN_MC 144
#define SCAN_MR 6

typedef float v8f __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));

size_t scan_packed_size(size_t k, size_t n) { return k * ((n + SCAN_NR - 1) / SCAN_NR) * SCAN_NR; }

void scan_pack_f32(const float *b, size_t ldb, int trans, size_t k, size_t n, float *packed) {
    size_t panels = (n + SCAN_NR - 1) / SCAN_NR;
    float *dst = packed;
    for (size_t k0 = 0; k0 < k; k0 += SCAN_KC) {
        size_t kcb = k - k0 < SCAN_KC ? k - k0 : SCAN_KC;
        for (size_t p = 0; p < panels; p++) {
            size_t j0 = p * SCAN_NR, w = n - j0 < SCAN_NR ? n - j0 : SCAN_NR;
            if (w < SCAN_NR) memset(dst, 0, kcb * SCAN_NR * sizeof(float));  // the kernel reads whole panels
            if (trans) {
                // Column j of op(B) is row j of B: read each source row contiguously.
                for (size_t j = 0; j < w; j++) {
                    const float *src = b + (j0 + j) * ldb + k0;
                    for (size_t kk = 0; kk < kcb; kk++) dst[kk * SCAN_NR + j] = src[kk];
                }
            } else {
                for (size_t kk = 0; kk < kcb; kk++) memcpy(dst + kk * SCAN_NR, b + (k0 + kk) * ldb + j0, w * sizeof(float));
            }
            dst += kcb * SCAN_NR;
        }
    }
}

// Rows of the next tile when `left` rows remain: 7 or 8 run as 4 + 3 or 4 + 4, since a 1- or 2-row
// tile spends most of its time loading the panel.
static inline size_t tile_rows(size_t left) {
    return left == 7 || left == 8 ? 4 : left < SCAN_MR ? left : SCAN_MR;
}

// Rows i0..<i1, columns k0..<k0 + kcb of A into slivers of tile_rows rows, each kcb x rows with a
// k step's rows adjacent: the micro-kernel then reads A at fixed offsets from one pointer, and rows
// lda apart (4 KB apart in the GRU: the same L1 set) no longer evict the panel block.
static void pack_a(const float *a, size_t lda, size_t i0, size_t i1, size_t k0, size_t kcb, float *dst) {
    for (size_t i = i0, mr; i < i1; i += mr, dst += mr * kcb) {
        mr = tile_rows(i1 - i);
        for (size_t r = 0; r < mr; r++) {
            const float *src = a + (i + r) * lda + k0;
            for (size_t p = 0; p < kcb; p++) dst[p * mr + r] = src[p];
        }
    }
}

// One template, two builds (as in attention.c): 32-byte vectors with FMA for AVX2 machines, where
// one call of the micro-kernel covers a whole panel, and 16-byte vectors for any other x86-64,
// where two calls cover its two halves (12 accumulators + 3 fit SSE's 16 registers too).
#define DEFINE_GEMM(SUF, ATTR, V, LANES, FMA)                                                        \
ATTR INLINE V gload_##SUF(const float *p) { V v; memcpy(&v, p, sizeof v); return v; }               \
ATTR INLINE void gstore_##SUF(float *p, V v) { memcpy(p, &v, sizeof v); }                           \
                                                                                                     \
/* MR rows x 2 * LANES columns over kc: a the packed sliver of A (kc x MR), b the panel block at      \
   this half's first column, c (ldc) the tile; only ncols (>= 1) columns of C are written. MR is a   \
   constant after inlining, so acc lives in registers. */                                           \
ATTR INLINE void micro_##SUF(const int MR, long kc, const float *a, const float *b,                 \
                             float *c, long ldc, long ncols, int add) {                              \
    V acc[SCAN_MR][2];                                                                               \
    for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = (V){};                                      \
    _Pragma("clang loop unroll_count(4)")                                                            \
    for (long p = 0; p < kc; p++) {                                                                  \
        V b0 = gload_##SUF(b + p * SCAN_NR), b1 = gload_##SUF(b + p * SCAN_NR + LANES);              \
        for (int r = 0; r < MR; r++) {                                                               \
            /* x - 0 is x for every x, so this compiles to a bare broadcast (0 + x is not: -0). */    \
            V x = a[p * MR + r] - (V){};                                                             \
            acc[r][0] = FMA(x, b0, acc[r][0]);                                                       \
            acc[r][1] = FMA(x, b1, acc[r][1]);                                                       \
        }                                                                                            \
    }                                                                                                \
    if (ncols >= 2 * LANES) {                                                                        \
        for (int r = 0; r < MR; r++) {                                                               \
            float *cr = c + r * ldc;                                                                 \
            if (add) { acc[r][0] += gload_##SUF(cr); acc[r][1] += gload_##SUF(cr + LANES); }         \
            gstore_##SUF(cr, acc[r][0]);                                                             \
            gstore_##SUF(cr + LANES, acc[r][1]);                                                     \
        }                                                                                            \
    } else {                                                                                         \
        /* The tail panel: the padded columns are computed (zeros) but never stored. */             \
        float t[2 * LANES];                                                                          \
        for (int r = 0; r < MR; r++) {                                                               \
            float *cr = c + r * ldc;                                                                 \
            gstore_##SUF(t, acc[r][0]);                                                              \
            gstore_##SUF(t + LANES, acc[r][1]);                                                      \
            for (long j = 0; j < ncols; j++) cr[j] = add ? cr[j] + t[j] : t[j];                      \
        }                                                                                            \
    }                                                                                                \
}                                                                                                    \
                                                                                                     \
ATTR INLINE void micro_rows_##SUF(int mr, long kc, const float *a, const float *b,          \
                                  float *c, long ldc, long ncols, int add) {                         \
    switch (mr) {                                                                                    \
    case 6: micro_##SUF(6, kc, a, b, c, ldc, ncols, add); break;                                \
    case 5: micro_##SUF(5, kc, a, b, c, ldc, ncols, add); break;                                \
    case 4: micro_##SUF(4, kc, a, b, c, ldc, ncols, add); break;                                \
    case 3: micro_##SUF(3, kc, a, b, c, ldc, ncols, add); break;                                \
    case 2: micro_##SUF(2, kc, a, b, c, ldc, ncols, add); break;                                \
    default: micro_##SUF(1, kc, a, b, c, ldc, ncols, add); break;                               \
    }                                                                                                \
}                                                                                                    \
                                                                                                     \
/* mc: rows of A per block, packed into work (mc x SCAN_KC floats) as slivers of tile_rows rows. */  \
ATTR static void gemm_##SUF(size_t m, size_t n, size_t k, const float *a, size_t lda,               \
                            const float *packed, int accumulate, float *c, size_t ldc,               \
                            size_t mc, float *work) {                                                \
    size_t panels = (n + SCAN_NR - 1) / SCAN_NR;                                                     \
    for (size_t k0 = 0; k0 < k; k0 += SCAN_KC) {                                                     \
        size_t kcb = k - k0 < SCAN_KC ? k - k0 : SCAN_KC;                                            \
        const float *block = packed + k0 * panels * SCAN_NR;                                         \
        int add = accumulate || k0 > 0;                                                              \
        for (size_t i0 = 0; i0 < m; i0 += mc) {                                                      \
            size_t i1 = m - i0 < mc ? m : i0 + mc;                                                   \
            pack_a(a, lda, i0, i1, k0, kcb, work);                                                   \
            for (size_t p = 0; p < panels; p++) {                                                    \
                const float *bp = block + p * kcb * SCAN_NR;                                         \
                size_t j0 = p * SCAN_NR;                                                             \
                long w = (long)(n - j0 < SCAN_NR ? n - j0 : SCAN_NR);                                \
                const float *ap = work;                                                              \
                for (size_t i = i0, mr; i < i1; i += mr, ap += mr * kcb) {                           \
                    mr = tile_rows(i1 - i);                                                          \
                    for (long h = 0; h < SCAN_NR && h < w; h += 2 * LANES)                           \
                        micro_rows_##SUF((int)mr, (long)kcb, ap, bp + h, c + i * ldc + j0 + h,       \
                                         (long)ldc, w - h, add);                                     \
                }                                                                                    \
            }                                                                                        \
        }                                                                                            \
    }                                                                                                \
}

#define FMA_FUSED(x, y, z) __builtin_elementwise_fma(x, y, z)
#define FMA_SPLIT(x, y, z) ((x) * (y) + (z))

#ifdef SCAN_X86
DEFINE_GEMM(avx2, SCAN_AVX2, v8f, 8, FMA_FUSED)
#endif
DEFINE_GEMM(base, , v4f, 4, FMA_SPLIT)

void scan_gemm_packed_f32(size_t m, size_t n, size_t k, const float *a, size_t lda,
                          const float *packed, int accumulate, float *c, size_t ldc) {
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (!accumulate)
            for (size_t i = 0; i < m; i++) memset(c + i * ldc, 0, n * sizeof(float));
        return;
    }
    // Packed A on the heap (up to 144 KB, too much for some threads' stacks); should that fail, one
    // tile's worth on the stack still works, re-reading each k-block of op(B) once per tile.
    size_t mc = m < SCAN_MC ? m : SCAN_MC;
    float small[SCAN_MR * SCAN_KC];
    float *work = malloc(mc * SCAN_KC * sizeof(float));
    if (!work) { work = small; mc = SCAN_MR; }
#ifdef SCAN_X86
    if (scan_vector_build() == 1) gemm_avx2(m, n, k, a, lda, packed, accumulate, c, ldc, mc, work);
    else
#endif
    gemm_base(m, n, k, a, lda, packed, accumulate, c, ldc, mc, work);
    if (work != small) free(work);
}
