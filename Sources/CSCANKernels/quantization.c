// Nearest-centroid search of product quantisation: the inner loop runs over the centroids of a
// sub-space, so it vectorises across them ([m][j][c] layout); compiled per instruction set like
// the other kernels.
#include "CSCANQuantization.h"

#if defined(__x86_64__) && defined(__GNUC__)
#define SCAN_QCLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SCAN_QCLONES
#endif

SCAN_QCLONES
void scan_pq_assign(const float *x, size_t rows, size_t dim, size_t sub_dim, size_t n_centroids,
                    const float *transposed, const float *norms, uint8_t *codes) {
    size_t subspaces = dim / sub_dim;
    float dist[256];
    for (size_t r = 0; r < rows; r++) {
        const float *row = x + r * dim;
        for (size_t m = 0; m < subspaces; m++) {
            const float *t = transposed + m * sub_dim * n_centroids;
            const float *nm = norms + m * n_centroids;
            const float *xs = row + m * sub_dim;
            // ||x - c||^2 - ||x||^2 = ||c||^2 - 2 x.c
            for (size_t c = 0; c < n_centroids; c++) dist[c] = nm[c];
            for (size_t j = 0; j < sub_dim; j++) {
                float v = -2.0f * xs[j];
                const float *tj = t + j * n_centroids;
                for (size_t c = 0; c < n_centroids; c++) dist[c] += v * tj[c];
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
