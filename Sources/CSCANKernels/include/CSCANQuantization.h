#ifndef CSCAN_QUANTIZATION_H
#define CSCAN_QUANTIZATION_H
#include <stddef.h>
#include <stdint.h>

/// Product quantisation: for each of `rows` vectors x (row-major, `dim` floats) and each of the
/// dim / sub_dim sub-spaces m, the index of the nearest of the n_centroids (<= 256) centroids of m.
/// `transposed` holds the centroids as [m][j][c] (sub_dim rows of n_centroids values per sub-space)
/// and `norms` their squared norms as [m][c]. Writes rows x (dim / sub_dim) codes.
/// Each code is the first centroid of the least d[c] = fma(-2 x[sub_dim-1], t, ... fma(-2 x[0], t, norms[c])),
/// on every CPU and path, independent of the other rows of the call. Runs the fastest path of the CPU.
void scan_pq_assign(const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n_centroids,
                    const float *transposed, const float *norms, uint8_t *codes);

/// The paths of scan_pq_assign, for tests and benchmarks that compare them: the portable one
/// (sub-space outer over blocks of rows, scalar), AVX2+FMA, AVX-512F, and the first kernel's
/// row-by-row loop (the yardstick).
enum { SCAN_PQ_PORTABLE = 0, SCAN_PQ_AVX2 = 1, SCAN_PQ_AVX512 = 2, SCAN_PQ_ROWWISE = 3 };
/// Runs one path; returns 0, or -1 (writing nothing) when this CPU lacks it or the shape is unsupported.
int scan_pq_assign_path(int path, const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n_centroids,
                        const float *transposed, const float *norms, uint8_t *codes);
/// The path scan_pq_assign runs on this CPU.
int scan_pq_best_path(void);

/// Product-quantisation decoding: row r of `out` (dim = subspaces x sub_dim floats) is the
/// concatenation of centroid codes[r * subspaces + m] of each sub-space m, from `centroids`
/// ([m][c][j], n_centroids per sub-space). Returns 0, or -1 at the first code >= n_centroids (a
/// corrupt record; `out` is then partly written).
int scan_pq_decode(const uint8_t *codes, size_t rows, size_t subspaces, size_t sub_dim, size_t n_centroids,
                   const float *centroids, float *out);

#endif
