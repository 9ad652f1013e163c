#ifndef CSCAN_QUANTIZATION_H
#define CSCAN_QUANTIZATION_H
#include <stddef.h>
#include <stdint.h>

/// Product quantisation: for each of `rows` vectors x (row-major, `dim` floats) and each of the
/// dim / sub_dim sub-spaces m, the index of the nearest of the n_centroids (<= 256) centroids of m.
/// `transposed` holds the centroids as [m][j][c] (sub_dim rows of n_centroids values per sub-space)
/// and `norms` their squared norms as [m][c]. Writes rows x (dim / sub_dim) codes.
void scan_pq_assign(const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n_centroids,
                    const float *transposed, const float *norms, uint8_t *codes);

#endif
