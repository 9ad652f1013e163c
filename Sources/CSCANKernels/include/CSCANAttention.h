#ifndef CSCAN_ATTENTION_H
#define CSCAN_ATTENTION_H
#include <stddef.h>
#include <stdint.h>

/// Raw feature norms, in the order of the Swift enum `RawFeatureNorm` mapping (see ScoringScalar).
enum {
    SCAN_NORM_CLIPPED_L2 = 0,
    SCAN_NORM_L2 = 1,
    SCAN_NORM_CLIPPED_L1 = 2,
    SCAN_NORM_L1 = 3,
    SCAN_NORM_CLIPPED = 4,
    SCAN_NORM_NONE = 5,
    SCAN_NORM_SOFTMAX = 6
};

/// Aggregations over a query item's elements, in the order of the Swift enum `AggFunc` mapping.
enum {
    SCAN_AGG_LOGSUMEXP = 0,
    SCAN_AGG_MEAN = 1,
    SCAN_AGG_MAX = 2,
    SCAN_AGG_SUM = 3
};


/// Elements past the end that `scan_attend_*` may read in p (after its last row) and in qnorm
/// (after cols): the kernel works on whole column tiles; what it reads there never reaches a score.
size_t scan_attend_padding(void);

/// Elements of scratch space `scan_attend_*` needs for a context item of `rows` rows and `cols` query columns.
size_t scan_attend_workspace(size_t rows, size_t cols);

/// Scores one context item against the query items of a block (DESIGN §5).
/// p: rows x cols region-word products of this item (leading dimension ldp); gram: rows x rows Gram
/// matrix of the item's rows; seg: nseg + 1 column offsets of the query items within the block;
/// qnorm: the cols query-element norms. Writes the nseg scores to out[k * out_stride].
/// work: scan_attend_workspace(rows, cols) elements.
void scan_attend_f32(const float *p, size_t ldp, size_t rows, size_t cols, const float *gram,
                     const int64_t *seg, size_t nseg, const float *qnorm, int norm, float lambda,
                     int agg, float lambda_lse, float *work, float *out, ptrdiff_t out_stride);
void scan_attend_f64(const double *p, size_t ldp, size_t rows, size_t cols, const double *gram,
                     const int64_t *seg, size_t nseg, const double *qnorm, int norm, double lambda,
                     int agg, double lambda_lse, double *work, double *out, ptrdiff_t out_stride);

#endif
