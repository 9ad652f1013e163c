// Nearest-centroid search of product quantisation, and 4-bit scalar scoring.
//
// Every path of scan_pq_assign computes each distance in one fixed order of operations,
//     d[c] = norms[c];  for j in 0..<sub_dim: d[c] = fma(-2 x[j], t[j][c], d[c])
// and takes the first centroid of the least d. Fused multiply-adds everywhere (not only where the
// compiler happened to contract them, as the AVX-512 clone of the first kernel did while its AVX2
// clone rounded twice), so that a code depends on the vector and the codebook only: not on the
// CPU, the instruction set, the rows encoded beside it or how they were blocked.
#include "CSCANQuantization.h"
#include <math.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define SCAN_PQ_X86 1
#endif
// ThreadSanitizer crashes in the ifunc resolvers of target_clones (see kernels.c): a TSan build
// keeps the default clone.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SCAN_PQ_UNDER_TSAN 1
#endif
#endif
#if defined(SCAN_PQ_X86) && !defined(SCAN_PQ_UNDER_TSAN)
#define SCAN_QCLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SCAN_QCLONES
#endif

// Rows encoded together per sub-space: the sub-space's codebook (4 KiB at 4 dims x 256 centroids)
// stays in L1 across them, and their sub-vectors (one cache line per row serves several
// sub-spaces) stay in L1/L2.
#define PQ_ROW_BLOCK 64

// The vector paths run only where no distance can overflow: |x| <= 2^40 and every centroid's
// squared norm <= 2^80 bound every term by 2^81, so no partial sum reaches infinity or NaN, and
// the lane-wise minimum followed by a search for the first equal distance is the sequential
// first-minimum. Anything larger (never an l2-normalised region) takes the portable sequential path.
static const float pq_x_limit = 0x1p40f;
static const float pq_norm_limit = 0x1p80f;

static int pq_rows_tame(const float *x, size_t rows, size_t dim) {
    size_t n = rows * dim;
    int ok = 1;
    for (size_t i = 0; i < n; i++) ok &= (fabsf(x[i]) <= pq_x_limit);
    return ok;
}

static int pq_norms_tame(const float *nm, size_t n) {
    int ok = 1;
    for (size_t c = 0; c < n; c++) ok &= (nm[c] <= pq_norm_limit);
    return ok;
}

// The defining computation, one sub-vector at a time (also correct for NaN and infinities:
// a NaN first distance keeps code 0, later NaNs never win, as in a sequential strict-less scan).
static uint8_t pq_assign_one_portable(const float *xs, size_t sub_dim, size_t n, const float *t, const float *nm) {
    size_t best = 0;
    float bd = 0;
    for (size_t c = 0; c < n; c++) {
        float d = nm[c];
        for (size_t j = 0; j < sub_dim; j++) d = fmaf(-2.0f * xs[j], t[j * n + c], d);
        if (c == 0) {
            bd = d;
        } else if (d < bd) {
            bd = d;
            best = c;
        }
    }
    return (uint8_t)best;
}

static void pq_assign_portable(const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n,
                               const float *transposed, const float *norms, uint8_t *codes) {
    size_t subspaces = dim / sub_dim;
    for (size_t r0 = 0; r0 < rows; r0 += PQ_ROW_BLOCK) {
        size_t r1 = rows - r0 < PQ_ROW_BLOCK ? rows : r0 + PQ_ROW_BLOCK;
        for (size_t m = 0; m < subspaces; m++) {
            const float *t = transposed + m * sub_dim * n;
            const float *nm = norms + m * n;
            for (size_t r = r0; r < r1; r++)
                codes[r * subspaces + m] = pq_assign_one_portable(x + r * dim + m * sub_dim, sub_dim, n, t, nm);
        }
    }
}

#if defined(SCAN_PQ_X86)
// One sub-vector against the n centroids of its sub-space, 16 centroids per register. Inlined
// with sub_dim a constant for the common sizes, so that the broadcasts of -2 x[j] stay in registers.
__attribute__((target("avx512f"), always_inline))
static inline uint8_t pq_assign_one_avx512(const float *xs, size_t sub_dim, size_t n, const float *t, const float *nm, float *dist) {
    size_t full = n & ~(size_t)15;
    __m512 lo = _mm512_set1_ps(INFINITY), hi = lo;
    size_t k = 0;
    for (; k < full; k += 16) {
        __m512 d = _mm512_loadu_ps(nm + k);
        for (size_t j = 0; j < sub_dim; j++)
            d = _mm512_fmadd_ps(_mm512_set1_ps(-2.0f * xs[j]), _mm512_loadu_ps(t + j * n + k), d);
        _mm512_storeu_ps(dist + k, d);
        // Two running minima: half the dependency chain of one.
        if ((k & 16) == 0) lo = _mm512_min_ps(lo, d); else hi = _mm512_min_ps(hi, d);
    }
    float best = _mm512_reduce_min_ps(_mm512_min_ps(lo, hi));
    for (size_t c = full; c < n; c++) {
        float d = nm[c];
        for (size_t j = 0; j < sub_dim; j++) d = fmaf(-2.0f * xs[j], t[j * n + c], d);
        dist[c] = d;
        if (d < best) best = d;
    }
    __m512 vb = _mm512_set1_ps(best);
    for (k = 0; k < full; k += 16) {
        __mmask16 e = _mm512_cmp_ps_mask(_mm512_loadu_ps(dist + k), vb, _CMP_EQ_OQ);
        if (e) return (uint8_t)(k + (size_t)__builtin_ctz((unsigned)e));
    }
    for (size_t c = full; c < n; c++) if (dist[c] == best) return (uint8_t)c;
    return 0;
}

// The first centroid whose distance equals the least one, `best`, found over `dist`.
__attribute__((target("avx512f"), always_inline))
static inline uint8_t pq_first_equal_avx512(const float *dist, size_t n, float best) {
    __m512 vb = _mm512_set1_ps(best);
    for (size_t k = 0; k < n; k += 16) {
        __mmask16 e = _mm512_cmp_ps_mask(_mm512_loadu_ps(dist + k), vb, _CMP_EQ_OQ);
        if (e) return (uint8_t)(k + (size_t)__builtin_ctz((unsigned)e));
    }
    return 0;
}

// The default shape, 4 dims per sub-space and a multiple of 16 centroids, R rows at a time: each
// codebook load serves R rows (4 rows: 16 broadcasts, 4 minima and the loads fit the 32 registers).
__attribute__((target("avx512f"), always_inline))
static inline void pq4_assign_rows_avx512(const float *x, size_t dim, size_t R, size_t n, const float *t, const float *nm,
                                          float (*dist)[256], uint8_t *out, size_t out_stride) {
    __m512 b[4][4], mn[4];
    for (size_t r = 0; r < R; r++) {
        for (size_t j = 0; j < 4; j++) b[r][j] = _mm512_set1_ps(-2.0f * x[r * dim + j]);
        mn[r] = _mm512_set1_ps(INFINITY);
    }
    for (size_t k = 0; k < n; k += 16) {
        __m512 nv = _mm512_loadu_ps(nm + k);
        __m512 v0 = _mm512_loadu_ps(t + k), v1 = _mm512_loadu_ps(t + n + k);
        __m512 v2 = _mm512_loadu_ps(t + 2 * n + k), v3 = _mm512_loadu_ps(t + 3 * n + k);
        for (size_t r = 0; r < R; r++) {
            __m512 p = _mm512_fmadd_ps(b[r][0], v0, nv);
            p = _mm512_fmadd_ps(b[r][1], v1, p);
            p = _mm512_fmadd_ps(b[r][2], v2, p);
            p = _mm512_fmadd_ps(b[r][3], v3, p);
            _mm512_storeu_ps(dist[r] + k, p);
            mn[r] = _mm512_min_ps(mn[r], p);
        }
    }
    for (size_t r = 0; r < R; r++) out[r * out_stride] = pq_first_equal_avx512(dist[r], n, _mm512_reduce_min_ps(mn[r]));
}

__attribute__((target("avx512f")))
static void pq_assign_avx512(const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n,
                             const float *transposed, const float *norms, uint8_t *codes) {
    size_t subspaces = dim / sub_dim;
    float dist[256] __attribute__((aligned(64)));
    float rdist[4][256] __attribute__((aligned(64)));
    for (size_t r0 = 0; r0 < rows; r0 += PQ_ROW_BLOCK) {
        size_t r1 = rows - r0 < PQ_ROW_BLOCK ? rows : r0 + PQ_ROW_BLOCK;
        int tame_rows = pq_rows_tame(x + r0 * dim, r1 - r0, dim);
        for (size_t m = 0; m < subspaces; m++) {
            const float *t = transposed + m * sub_dim * n;
            const float *nm = norms + m * n;
            uint8_t *out = codes + m;
            if (!tame_rows || !pq_norms_tame(nm, n)) {
                for (size_t r = r0; r < r1; r++) out[r * subspaces] = pq_assign_one_portable(x + r * dim + m * sub_dim, sub_dim, n, t, nm);
            } else if (sub_dim == 4 && n % 16 == 0) {
                size_t r = r0;
                for (; r + 4 <= r1; r += 4)
                    pq4_assign_rows_avx512(x + r * dim + m * 4, dim, 4, n, t, nm, rdist, out + r * subspaces, subspaces);
                for (; r < r1; r++)
                    pq4_assign_rows_avx512(x + r * dim + m * 4, dim, 1, n, t, nm, rdist, out + r * subspaces, subspaces);
            } else if (sub_dim == 4) {
                for (size_t r = r0; r < r1; r++) out[r * subspaces] = pq_assign_one_avx512(x + r * dim + m * 4, 4, n, t, nm, dist);
            } else if (sub_dim == 8) {
                for (size_t r = r0; r < r1; r++) out[r * subspaces] = pq_assign_one_avx512(x + r * dim + m * 8, 8, n, t, nm, dist);
            } else {
                for (size_t r = r0; r < r1; r++) out[r * subspaces] = pq_assign_one_avx512(x + r * dim + m * sub_dim, sub_dim, n, t, nm, dist);
            }
        }
    }
}

// The same with 8 centroids per register, for AVX2+FMA CPUs.
__attribute__((target("avx2,fma"), always_inline))
static inline uint8_t pq_assign_one_avx2(const float *xs, size_t sub_dim, size_t n, const float *t, const float *nm, float *dist) {
    size_t full = n & ~(size_t)7;
    __m256 lo = _mm256_set1_ps(INFINITY), hi = lo;
    size_t k = 0;
    for (; k < full; k += 8) {
        __m256 d = _mm256_loadu_ps(nm + k);
        for (size_t j = 0; j < sub_dim; j++)
            d = _mm256_fmadd_ps(_mm256_set1_ps(-2.0f * xs[j]), _mm256_loadu_ps(t + j * n + k), d);
        _mm256_storeu_ps(dist + k, d);
        if ((k & 8) == 0) lo = _mm256_min_ps(lo, d); else hi = _mm256_min_ps(hi, d);
    }
    __m256 v = _mm256_min_ps(lo, hi);
    __m128 q = _mm_min_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    q = _mm_min_ps(q, _mm_movehl_ps(q, q));
    q = _mm_min_ss(q, _mm_shuffle_ps(q, q, 1));
    float best = _mm_cvtss_f32(q);
    for (size_t c = full; c < n; c++) {
        float d = nm[c];
        for (size_t j = 0; j < sub_dim; j++) d = fmaf(-2.0f * xs[j], t[j * n + c], d);
        dist[c] = d;
        if (d < best) best = d;
    }
    __m256 vb = _mm256_set1_ps(best);
    for (k = 0; k < full; k += 8) {
        int e = _mm256_movemask_ps(_mm256_cmp_ps(_mm256_loadu_ps(dist + k), vb, _CMP_EQ_OQ));
        if (e) return (uint8_t)(k + (size_t)__builtin_ctz((unsigned)e));
    }
    for (size_t c = full; c < n; c++) if (dist[c] == best) return (uint8_t)c;
    return 0;
}

__attribute__((target("avx2,fma")))
static void pq_assign_avx2(const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n,
                           const float *transposed, const float *norms, uint8_t *codes) {
    size_t subspaces = dim / sub_dim;
    float dist[256] __attribute__((aligned(32)));
    for (size_t r0 = 0; r0 < rows; r0 += PQ_ROW_BLOCK) {
        size_t r1 = rows - r0 < PQ_ROW_BLOCK ? rows : r0 + PQ_ROW_BLOCK;
        int tame_rows = pq_rows_tame(x + r0 * dim, r1 - r0, dim);
        for (size_t m = 0; m < subspaces; m++) {
            const float *t = transposed + m * sub_dim * n;
            const float *nm = norms + m * n;
            uint8_t *out = codes + m;
            if (!tame_rows || !pq_norms_tame(nm, n)) {
                for (size_t r = r0; r < r1; r++) out[r * subspaces] = pq_assign_one_portable(x + r * dim + m * sub_dim, sub_dim, n, t, nm);
            } else if (sub_dim == 4) {
                for (size_t r = r0; r < r1; r++) out[r * subspaces] = pq_assign_one_avx2(x + r * dim + m * 4, 4, n, t, nm, dist);
            } else if (sub_dim == 8) {
                for (size_t r = r0; r < r1; r++) out[r * subspaces] = pq_assign_one_avx2(x + r * dim + m * 8, 8, n, t, nm, dist);
            } else {
                for (size_t r = r0; r < r1; r++) out[r * subspaces] = pq_assign_one_avx2(x + r * dim + m * sub_dim, sub_dim, n, t, nm, dist);
            }
        }
    }
}
#endif

// The first kernel's loop, row by row over every sub-space's codebook (the whole codebook,
// 1 MiB at pq4 x 1024 dims, streams through the cache once per row), with its arithmetic made
// explicit. Kept as the yardstick of the benchmark and an independent check in the tests.
SCAN_QCLONES
static void pq_assign_rowwise(const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n_centroids,
                              const float *transposed, const float *norms, uint8_t *codes) {
    size_t subspaces = dim / sub_dim;
    float dist[256];
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * dim;
        for (size_t m = 0; m < subspaces; m++) {
            const float *t = transposed + m * sub_dim * n_centroids;
            const float *nm = norms + m * n_centroids;
            const float *xs = row + m * sub_dim;
            for (size_t c = 0; c < n_centroids; c++) dist[c] = nm[c];
            for (size_t j = 0; j < sub_dim; j++) {
                float v = -2.0f * xs[j];
                const float *tj = t + j * n_centroids;
                for (size_t c = 0; c < n_centroids; c++) dist[c] = fmaf(v, tj[c], dist[c]);
            }
            size_t best = 0;
            float bd = dist[0];
            for (size_t c = 1; c < n_centroids; c++) {
                if (dist[c] < bd) { bd = dist[c]; best = c; }
            }
            codes[r * subspaces + m] = (uint8_t)best;
        }
    }
}

// Read by every encoding thread: relaxed atomics, as for the vector build in kernels.c.
static int pq_detected = -1;

static int pq_best_path(void) {
    int d = __atomic_load_n(&pq_detected, __ATOMIC_RELAXED);
    if (d < 0) {
        d = SCAN_PQ_PORTABLE;
#if defined(SCAN_PQ_X86)
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f")) d = SCAN_PQ_AVX512;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) d = SCAN_PQ_AVX2;
#endif
        __atomic_store_n(&pq_detected, d, __ATOMIC_RELAXED);
    }
    return d;
}

int scan_pq_assign_path(int path, const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n_centroids,
                        const float *transposed, const float *norms, uint8_t *codes) {
    if (sub_dim == 0 || n_centroids == 0 || n_centroids > 256) return -1;
    int best = pq_best_path();
    switch (path) {
    case SCAN_PQ_PORTABLE:
        pq_assign_portable(x, rows, dim, sub_dim, n_centroids, transposed, norms, codes);
        return 0;
    case SCAN_PQ_ROWWISE:
        pq_assign_rowwise(x, rows, dim, sub_dim, n_centroids, transposed, norms, codes);
        return 0;
#if defined(SCAN_PQ_X86)
    case SCAN_PQ_AVX2:
        if (best < SCAN_PQ_AVX2) return -1;
        pq_assign_avx2(x, rows, dim, sub_dim, n_centroids, transposed, norms, codes);
        return 0;
    case SCAN_PQ_AVX512:
        if (best < SCAN_PQ_AVX512) return -1;
        pq_assign_avx512(x, rows, dim, sub_dim, n_centroids, transposed, norms, codes);
        return 0;
#endif
    default:
        return -1;
    }
}

int scan_pq_best_path(void) { return pq_best_path(); }

void scan_pq_assign(const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n_centroids,
                    const float *transposed, const float *norms, uint8_t *codes) {
    (void)scan_pq_assign_path(pq_best_path(), x, rows, dim, sub_dim, n_centroids, transposed, norms, codes);
}
