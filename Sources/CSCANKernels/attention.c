// The per-pair half of the exact cross-attention shortcut (DESIGN §5). After the big region-word
// product P, one context item (an image in t2i, a caption in i2t) is scored against a block of
// query items in one pass over its rows of P, so that nothing leaves the cache between the steps:
// raw norm along each query item, softmax over the context rows, the cosine numerator sum e * P,
// the squared norm of the weighted context e^T G e, and the aggregation over each query item.
//
// Written with 32-byte vector types so that one source serves every clone (AVX-512, AVX2+FMA,
// SSE2), and the same template serves float and double.
#include "CSCANKernels.h"
#include <math.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define SCAN_X86 1
#define SCAN_AVX2 __attribute__((target("arch=x86-64-v3")))
#endif
#define INLINE static inline __attribute__((always_inline))

// Two builds of every kernel: 32-byte vectors for AVX2+FMA (also what AVX-512 machines run) and
// 16-byte vectors for any other CPU. A function with 32-byte vector arguments cannot be compiled
// for baseline x86-64 (it would change the ABI), hence two widths rather than target_clones.
typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));
typedef double v4d __attribute__((vector_size(32)));
typedef long long v4l __attribute__((vector_size(32)));
typedef float v4f __attribute__((vector_size(16)));
typedef int v4i __attribute__((vector_size(16)));
typedef double v2d __attribute__((vector_size(16)));
typedef long long v2l __attribute__((vector_size(16)));

// Vectors per column tile: the running max, sum and numerator of a tile stay in registers.
#define SCAN_TILE_VECTORS 4
// Columns of the widest tile (8 floats x 4); callers pad buffers by this much.
#define SCAN_TILE_MAX 32

size_t scan_attend_padding(void) { return SCAN_TILE_MAX; }

size_t scan_attend_workspace(size_t rows, size_t cols) {
    // Normalised logits (rows x padded cols), one tile of softmax numerators, one padded row of cosines.
    return rows * (cols + SCAN_TILE_MAX) + rows * SCAN_TILE_MAX + cols + SCAN_TILE_MAX;
}

// exp of a float vector, ~1 ulp (Cephes-style reduction; round-to-nearest by the 1.5 * 2^23 trick,
// which also yields the exponent's integer bits).
#define DEFINE_EXP_POLY(SUF, ATTR, V, VI)                                                            \
ATTR INLINE V expv_##SUF(V x) {                                                                      \
    /* Clamped by comparisons, not min/max, so that a NaN stays NaN and a broken input shows. */    \
    VI lo = x < -87.3f, hi = x > 88.3f;                                                              \
    x = (V)(((VI)x & ~(lo | hi)) | ((VI)((V){} - 87.3f) & lo) | ((VI)((V){} + 88.3f) & hi));         \
    const float magic = 12582912.0f;                                                                 \
    V t = x * 1.44269504088896341f + magic;                                                          \
    V n = t - magic;                                                                                 \
    V r = x - n * 0.693359375f;                                                                      \
    r = r + n * 2.12194440e-4f;                                                                      \
    V p = (V){} + 1.9875691500e-4f;                                                                  \
    p = p * r + 1.3981999507e-3f;                                                                    \
    p = p * r + 8.3334519073e-3f;                                                                    \
    p = p * r + 4.1665795894e-2f;                                                                    \
    p = p * r + 1.6666665459e-1f;                                                                    \
    p = p * r + 5.0000001201e-1f;                                                                    \
    p = p * r * r + r + 1.0f;                                                                        \
    VI e = ((VI)t - (VI)((V){} + magic) + 127) << 23;                                                \
    return p * (V)e;                                                                                 \
}

// The double path is the original's own arithmetic (for ranks decided by < 1e-6): libm exp.
#define DEFINE_EXP_LIBM(SUF, ATTR, V, LANES)                                                         \
ATTR INLINE V expv_##SUF(V x) {                                                                      \
    for (int i = 0; i < LANES; i++) x[i] = exp(x[i]);                                                \
    return x;                                                                                        \
}

// Each template below is instantiated for float (V = v8f) and double (V = v4d).
#define DEFINE_KERNELS(SUF, ATTR, T, V, VI, IT, LANES, SQRT, LOG)                                          \
ATTR INLINE V load_##SUF(const T *p) { V v; memcpy(&v, p, sizeof v); return v; }                          \
ATTR INLINE void store_##SUF(T *p, V v) { memcpy(p, &v, sizeof v); }                                      \
ATTR INLINE T hsum_##SUF(V v) { T s = 0; for (int i = 0; i < LANES; i++) s += v[i]; return s; }           \
ATTR INLINE T hmax_##SUF(V v) { T m = v[0]; for (int i = 1; i < LANES; i++) m = v[i] > m ? v[i] : m; return m; } \
/* Lanes i < n keep their value, the others become `fill`. */                                        \
ATTR INLINE V keep_##SUF(V v, long n, T fill) {                                                           \
    VI lane; for (int i = 0; i < LANES; i++) lane[i] = i;                                            \
    VI m = lane < (VI){} + (IT)n;                                                                        \
    return (V)(((VI)v & m) | ((VI)((V){} + fill) & ~m));                                             \
}                                                                                                    \
ATTR INLINE V clip_##SUF(V v) {                                                                           \
    VI m = v < (V){};                                                                                \
    return (V)(((VI)(v * (T)0.1) & m) | ((VI)v & ~m));                                               \
}                 \
                                                                                                     \
/* Raw feature norm of x[0..<n] into y, as the original's l2norm/l1norm/clipping/softmax along the   \
   query axis (eps 1e-8 added to the norm, clipping multiplies negatives by 0.1). Whole vectors are  \
   read and written: up to LANES - 1 elements past n are read, and written with junk that the next   \
   segment (or the padding) takes; so segments must be processed in increasing order. */            \
ATTR INLINE void segment_norm_##SUF(const T *x, T *y, long n, int norm) {                                 \
    int clip = norm == SCAN_NORM_CLIPPED_L2 || norm == SCAN_NORM_CLIPPED_L1 || norm == SCAN_NORM_CLIPPED; \
    T scale = 1, shift = 0;                                                                          \
    if (norm == SCAN_NORM_CLIPPED_L2 || norm == SCAN_NORM_L2 ||                                      \
        norm == SCAN_NORM_CLIPPED_L1 || norm == SCAN_NORM_L1) {                                      \
        int l2 = norm == SCAN_NORM_CLIPPED_L2 || norm == SCAN_NORM_L2;                               \
        V acc = {};                                                                                  \
        for (long i = 0; i < n; i += LANES) {                                                        \
            V v = load_##SUF(x + i);                                                                 \
            if (clip) v = clip_##SUF(v);                                                             \
            v = keep_##SUF(v, n - i, 0);                                                             \
            acc += l2 ? v * v : __builtin_elementwise_abs(v);                                        \
        }                                                                                            \
        T s = hsum_##SUF(acc);                                                                       \
        scale = (T)1 / ((l2 ? SQRT(s) : s) + (T)1e-8);                                               \
    } else if (norm == SCAN_NORM_SOFTMAX) {                                                          \
        V mv = (V){} - (T)INFINITY;                                                                  \
        for (long i = 0; i < n; i += LANES)                                                          \
            mv = __builtin_elementwise_max(mv, keep_##SUF(load_##SUF(x + i), n - i, -(T)INFINITY));  \
        shift = hmax_##SUF(mv);                                                                      \
        V acc = {};                                                                                  \
        for (long i = 0; i < n; i += LANES) {                                                        \
            V e = expv_##SUF(load_##SUF(x + i) - shift);                                                   \
            acc += keep_##SUF(e, n - i, 0);                                                          \
            store_##SUF(y + i, e);                                                                   \
        }                                                                                            \
        scale = (T)1 / hsum_##SUF(acc);                                                              \
        for (long i = 0; i < n; i += LANES) store_##SUF(y + i, load_##SUF(y + i) * scale);           \
        return;                                                                                      \
    }                                                                                                \
    for (long i = 0; i < n; i += LANES) {                                                            \
        V v = load_##SUF(x + i);                                                                     \
        if (clip) v = clip_##SUF(v);                                                                 \
        store_##SUF(y + i, v * scale);                                                               \
    }                                                                                                \
}                                                                                                    \
                                                                                                     \
/* One tile of SCAN_TILE_VECTORS * LANES query columns: a (logits after raw norm, lda), p (raw       \
   products, ldp), gram (rows x rows). With unnormalised softmax numerators e and their sum s the    \
   weights are e / s, so cos = (sum e p / s) / (|q| sqrt(e^T G e) / s); e^T G e uses G's symmetry    \
   (half the products). Writes the tile's cosines to sim. */                                         \
ATTR INLINE void attend_tile_##SUF(const T *a, long lda, const T *p, long ldp, long rows, const T *gram,  \
                              const T *qnorm, T lambda, T *e, T *sim) {                              \
    enum { NV = SCAN_TILE_VECTORS, W = SCAN_TILE_VECTORS * LANES };                                  \
    V mx[NV], s[NV], num[NV], qq[NV];                                                                \
    for (int v = 0; v < NV; v++) { mx[v] = load_##SUF(a + v * LANES) * lambda; s[v] = num[v] = qq[v] = (V){}; } \
    for (long r = 1; r < rows; r++)                                                                  \
        for (int v = 0; v < NV; v++)                                                                 \
            mx[v] = __builtin_elementwise_max(mx[v], load_##SUF(a + r * lda + v * LANES) * lambda);  \
    for (long r = 0; r < rows; r++) {                                                                \
        for (int v = 0; v < NV; v++) {                                                               \
            V x = expv_##SUF(load_##SUF(a + r * lda + v * LANES) * lambda - mx[v]);                        \
            store_##SUF(e + r * W + v * LANES, x);                                                   \
            s[v] += x;                                                                               \
            num[v] += x * load_##SUF(p + r * ldp + v * LANES);                                       \
        }                                                                                            \
    }                                                                                                \
    for (long r = 0; r < rows; r++) {                                                                \
        const T *g = gram + r * rows;                                                                \
        V acc[NV];                                                                                   \
        for (int v = 0; v < NV; v++) acc[v] = (V){};                                                 \
        for (long t = 0; t < r; t++)                                                                 \
            for (int v = 0; v < NV; v++) acc[v] += g[t] * load_##SUF(e + t * W + v * LANES);         \
        for (int v = 0; v < NV; v++) {                                                               \
            V er = load_##SUF(e + r * W + v * LANES);                                                \
            qq[v] += er * (g[r] * er + (T)2 * acc[v]);                                               \
        }                                                                                            \
    }                                                                                                \
    for (int v = 0; v < NV; v++) {                                                                   \
        V inv = (T)1 / s[v];                                                                         \
        V den = load_##SUF(qnorm + v * LANES) * __builtin_elementwise_sqrt(__builtin_elementwise_max(qq[v], (V){})) * inv; \
        store_##SUF(sim + v * LANES, num[v] * inv / __builtin_elementwise_max(den, (V){} + (T)1e-8)); \
    }                                                                                                \
}                                                                                                    \
                                                                                                     \
ATTR static void attend_##SUF(const T *p, size_t ldp, size_t rows, size_t cols, const T *gram,  \
                                   const int64_t *seg, size_t nseg, const T *qnorm, int norm,        \
                                   T lambda, int agg, T lambda_lse, T *work, T *out,                 \
                                   ptrdiff_t out_stride) {                                           \
    enum { W = SCAN_TILE_VECTORS * LANES };                                                          \
    const T *a = p;                                                                                  \
    long lda = (long)ldp;                                                                            \
    long ldn = (long)cols + SCAN_TILE_MAX;                                                           \
    T *normed = work, *e = work + rows * ldn, *sim = e + rows * SCAN_TILE_MAX;                 \
    if (norm != SCAN_NORM_NONE) {                                                                    \
        for (size_t r = 0; r < rows; r++)                                                            \
            for (size_t k = 0; k < nseg; k++)                                                        \
                segment_norm_##SUF(p + r * ldp + seg[k], normed + r * ldn + seg[k],                  \
                                   (long)(seg[k + 1] - seg[k]), norm);                               \
        a = normed; lda = ldn;                                                                       \
    }                                                                                                \
    /* The last tile runs past cols into padding: those columns are computed and never read. */      \
    for (size_t c0 = 0; c0 < cols; c0 += W)                                                          \
        attend_tile_##SUF(a + c0, lda, p + c0, (long)ldp, (long)rows, gram, qnorm + c0, lambda, e, sim + c0); \
    for (size_t k = 0; k < nseg; k++) {                                                              \
        const T *x = sim + seg[k];                                                                   \
        long n = (long)(seg[k + 1] - seg[k]);                                                        \
        T v = 0;                                                                                     \
        if (agg == SCAN_AGG_LOGSUMEXP) {                                                             \
            /* The original computes log(sum(exp(lambda * s))) / lambda with no max shift. */        \
            V acc = {};                                                                              \
            for (long i = 0; i < n; i += LANES)                                                      \
                acc += keep_##SUF(expv_##SUF(load_##SUF(x + i) * lambda_lse), n - i, 0);                   \
            v = LOG(hsum_##SUF(acc)) / lambda_lse;                                                   \
        } else if (agg == SCAN_AGG_MEAN || agg == SCAN_AGG_SUM) {                                    \
            for (long i = 0; i < n; i++) v += x[i];                                                  \
            if (agg == SCAN_AGG_MEAN) v /= (T)n;                                                     \
        } else {                                                                                     \
            v = x[0];                                                                                \
            for (long i = 1; i < n; i++) v = x[i] > v ? x[i] : v;                                    \
        }                                                                                            \
        out[(ptrdiff_t)k * out_stride] = v;                                                          \
    }                                                                                                \
}

#ifdef SCAN_X86
DEFINE_EXP_POLY(f32_avx2, SCAN_AVX2, v8f, v8i)
DEFINE_EXP_LIBM(f64_avx2, SCAN_AVX2, v4d, 4)
DEFINE_KERNELS(f32_avx2, SCAN_AVX2, float, v8f, v8i, int, 8, sqrtf, logf)
DEFINE_KERNELS(f64_avx2, SCAN_AVX2, double, v4d, v4l, long long, 4, sqrt, log)
#endif
DEFINE_EXP_POLY(f32_base, , v4f, v4i)
DEFINE_EXP_LIBM(f64_base, , v2d, 2)
DEFINE_KERNELS(f32_base, , float, v4f, v4i, int, 4, sqrtf, logf)
DEFINE_KERNELS(f64_base, , double, v2d, v2l, long long, 2, sqrt, log)

#define SCAN_ATTEND_ARGS(T) const T *p, size_t ldp, size_t rows, size_t cols, const T *gram,         \
    const int64_t *seg, size_t nseg, const T *qnorm, int norm, T lambda, int agg, T lambda_lse,       \
    T *work, T *out, ptrdiff_t out_stride
#define SCAN_ATTEND_PASS p, ldp, rows, cols, gram, seg, nseg, qnorm, norm, lambda, agg, lambda_lse, work, out, out_stride

void scan_attend_f32(SCAN_ATTEND_ARGS(float)) {
#ifdef SCAN_X86
    if (scan_vector_build() == 1) { attend_f32_avx2(SCAN_ATTEND_PASS); return; }
#endif
    attend_f32_base(SCAN_ATTEND_PASS);
}

void scan_attend_f64(SCAN_ATTEND_ARGS(double)) {
#ifdef SCAN_X86
    if (scan_vector_build() == 1) { attend_f64_avx2(SCAN_ATTEND_PASS); return; }
#endif
    attend_f64_base(SCAN_ATTEND_PASS);
}
