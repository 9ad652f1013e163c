#ifndef CSCAN_ATTENTION_H
#define CSCAN_ATTENTION_H
#include <stddef.h>

/// Raw feature norms, in the order of the Swift enum `RawFeatureNorm` mapping (see SimilarityScorer).
enum {
    SCAN_NORM_CLIPPED_L2 = 0,
    SCAN_NORM_L2 = 1,
    SCAN_NORM_CLIPPED_L1 = 2,
    SCAN_NORM_L1 = 3,
    SCAN_NORM_CLIPPED = 4,
    SCAN_NORM_NONE = 5,
    SCAN_NORM_SOFTMAX = 6
};

/// Applies a raw feature norm to each of `rows` contiguous segments of length n (segment r starts at a + r*ld).
void scan_rawnorm_f32(float *a, size_t rows, size_t n, size_t ld, int norm);
void scan_rawnorm_f64(double *a, size_t rows, size_t n, size_t ld, int norm);

/// In place: column c of the (rows x cols, leading dimension ld) matrix becomes softmax over rows of lambda * column.
void scan_column_softmax_f32(float *a, size_t rows, size_t cols, size_t ld, float lambda);
void scan_column_softmax_f64(double *a, size_t rows, size_t cols, size_t ld, double lambda);

/// out[c] = sum_r a[r*lda + c] * b[r*ldb + c]
void scan_column_dot_f32(const float *a, size_t lda, const float *b, size_t ldb, size_t rows, size_t cols, float *out);
void scan_column_dot_f64(const double *a, size_t lda, const double *b, size_t ldb, size_t rows, size_t cols, double *out);

#endif
