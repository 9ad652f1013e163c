// Product-quantisation decoding at re-rank time: K candidates x 36 regions x (dim / sub_dim)
// centroid copies per query. A fixed-size copy for the common sub-space widths lets the compiler
// emit one or two vector moves instead of a memcpy call per sub-space.
#include <string.h>
#include "CSCANQuantization.h"

#define SCAN_PQ_DECODE_FIXED(D)                                                              \
    for (size_t r = 0; r < rows; r++) {                                                      \
        const uint8_t *c = codes + r * subspaces;                                            \
        float *o = out + r * subspaces * (D);                                                \
        for (size_t m = 0; m < subspaces; m++) {                                             \
            size_t k = c[m];                                                                 \
            if (k >= n_centroids) return -1;                                                 \
            memcpy(o + m * (D), centroids + (m * n_centroids + k) * (D), (D) * sizeof(float)); \
        }                                                                                    \
    }                                                                                        \
    return 0;

int scan_pq_decode(const uint8_t *codes, size_t rows, size_t subspaces, size_t sub_dim, size_t n_centroids,
                   const float *centroids, float *out) {
    switch (sub_dim) {
    case 4: SCAN_PQ_DECODE_FIXED(4)
    case 8: SCAN_PQ_DECODE_FIXED(8)
    case 16: SCAN_PQ_DECODE_FIXED(16)
    default: SCAN_PQ_DECODE_FIXED(sub_dim)
    }
}
