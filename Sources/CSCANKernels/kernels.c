// Hot loops that Swift's default SSE2 target would run slowly (DESIGN §5): compiled once per
// instruction set and chosen at load time by the CPU, so the binaries run on any x86-64.
#include "CSCANKernels.h"
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
// ThreadSanitizer instruments the ifunc resolvers that target_clones generates; they run while the
// dynamic loader relocates the binary, before the TSan runtime is set up, and crash it at load
// (SIGSEGV in __tsan_func_entry called from scan_dot's resolver). A TSan build uses the default
// clone only; every other build is unchanged.
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SCAN_UNDER_TSAN 1
#endif
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(SCAN_UNDER_TSAN)
#define SCAN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SCAN_CLONES
#endif

int scan_cpu_has_avx512f(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
#else
    return 0;
#endif
}

int scan_cpu_has_avx2(void) {
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
#else
    return 0;
#endif
}

// Read by every scoring thread: relaxed atomics (plain loads and stores on x86-64), so the lazy
// detection, where every thread computes the same value, is not a data race (ThreadSanitizer).
static int forced_build = -1;

void scan_force_vector_build(int build) { __atomic_store_n(&forced_build, build, __ATOMIC_RELAXED); }

int scan_vector_build(void) {
    static int detected = -1;
    int forced = __atomic_load_n(&forced_build, __ATOMIC_RELAXED);
    if (forced >= 0) return forced;
    int d = __atomic_load_n(&detected, __ATOMIC_RELAXED);
    if (d < 0) {
        d = scan_cpu_has_avx2();
        __atomic_store_n(&detected, d, __ATOMIC_RELAXED);
    }
    return d;
}

static inline float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else {
            // Subnormal half: normalise.
            int e = -1;
            do { e++; mant <<= 1; } while ((mant & 0x400u) == 0);
            mant &= 0x3ffu;
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | (mant << 13);
        }
    } else if (exp == 0x1f) {
        // NaN comes out quiet, as the F16C instruction makes it.
        bits = sign | 0x7f800000u | (mant << 13) | (mant ? 0x400000u : 0u);
    } else {
        bits = sign | ((exp + (127 - 15)) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static inline uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    if (absx >= 0x7f800000u) { // inf or nan
        return (uint16_t)(sign | 0x7c00u | (absx > 0x7f800000u ? (0x200u | ((absx >> 13) & 0x3ffu)) : 0));
    }
    if (absx >= 0x477ff000u) { // rounds to >= 65520: overflow to inf
        return (uint16_t)(sign | 0x7c00u);
    }
    if (absx < 0x38800000u) { // below the smallest normal half: subnormal or zero
        if (absx < 0x33000000u) return (uint16_t)sign; // < 2^-25 rounds to zero
        uint32_t e = absx >> 23;
        uint32_t m = (absx & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126 - e; // 14 - (e - 127) + 13 - 1 ... amount to reach half subnormal grid
        // value = m * 2^(e-150); half subnormal unit = 2^-24 -> q = m * 2^(e-126)
        uint32_t q = m >> shift;
        uint32_t rem = m & ((1u << shift) - 1u);
        uint32_t halfway = 1u << (shift - 1);
        if (rem > halfway || (rem == halfway && (q & 1u))) q++;
        return (uint16_t)(sign | q);
    }
    uint32_t e = (absx >> 23) - 127 + 15;
    uint32_t m = absx & 0x7fffffu;
    uint32_t h = (e << 10) | (m >> 13);
    uint32_t rem = m & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

static void f16_to_f32_scalar(const uint16_t *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = half_to_float(src[i]);
}

static void f32_to_f16_scalar(const float *src, uint16_t *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = float_to_half(src[i]);
}

#if defined(__x86_64__) && defined(__GNUC__)
// F16C converts 8 values per instruction (round to nearest even, subnormals and NaN handled in
// hardware, bit-identical to the scalar code above); chosen at run time when the CPU has it.
__attribute__((target("avx,f16c")))
static void f16_to_f32_f16c(const uint16_t *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm_loadu_si128((const __m128i *)(src + i));
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(h));
    }
    f16_to_f32_scalar(src + i, dst + i, n - i);
}

__attribute__((target("avx,f16c")))
static void f32_to_f16_f16c(const float *src, uint16_t *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i h = _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT);
        _mm_storeu_si128((__m128i *)(dst + i), h);
    }
    f32_to_f16_scalar(src + i, dst + i, n - i);
}

static int has_f16c(void) {
    static int cached = -1;  // relaxed atomic, as in scan_vector_build
    int c = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    if (c < 0) {
        __builtin_cpu_init();
        c = (__builtin_cpu_supports("f16c") && __builtin_cpu_supports("avx")) ? 1 : 0;
        __atomic_store_n(&cached, c, __ATOMIC_RELAXED);
    }
    return c;
}
#endif

void scan_f16_to_f32(const uint16_t *src, float *dst, size_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (has_f16c()) { f16_to_f32_f16c(src, dst, n); return; }
#endif
    f16_to_f32_scalar(src, dst, n);
}

void scan_f32_to_f16(const float *src, uint16_t *dst, size_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (has_f16c()) { f32_to_f16_f16c(src, dst, n); return; }
#endif
    f32_to_f16_scalar(src, dst, n);
}

/// Scalar reference conversions (tests compare the vector path with them).
void scan_f16_to_f32_reference(const uint16_t *src, float *dst, size_t n) { f16_to_f32_scalar(src, dst, n); }
void scan_f32_to_f16_reference(const float *src, uint16_t *dst, size_t n) { f32_to_f16_scalar(src, dst, n); }

SCAN_CLONES
float scan_dot(const float *a, const float *b, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

SCAN_CLONES
double scan_dot_f64acc(const float *a, const float *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * (double)b[i];
    return s;
}

SCAN_CLONES
void scan_axpy(float alpha, const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

void scan_prefetch(const void *p, size_t n) {
    const char *c = (const char *)p;
    for (size_t i = 0; i < n; i += 64) __builtin_prefetch(c + i, 0, 3);
}
