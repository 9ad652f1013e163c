#ifndef CSCAN_FAST_SCAN_H
#define CSCAN_FAST_SCAN_H
#include <stddef.h>
#include <stdint.h>

/// 4-bit codes scored with an 8-bit lookup table held in vector registers (the "fast scan" idea).
///
/// Layout: images in blocks of SCAN_FS_BLOCK = 32. A block holds `pdim` groups of 16 bytes, one
/// per dimension d: byte i of group d holds image i's code of d in its low nibble and image
/// 16 + i's in its high nibble. `pdim` is the dimension rounded up to SCAN_FS_DIM_ALIGN (padding
/// dimensions hold code 0 and a table of zeros), so a block is pdim * 16 bytes: pdim / 2 per image.
///
/// Table: `lut` holds pdim x 16 bytes, entry [d][c] the quantised contribution of code c of
/// dimension d. A score is sum_d lut[d][code_d], kept in 16 bits: the table builder guarantees
/// that sum_d max_c lut[d][c] <= 65535, so no score wraps for any dimension.
#define SCAN_FS_BLOCK 32
#define SCAN_FS_DIM_ALIGN 4

/// Instruction sets of the block kernel. Every one gives the same integers.
enum {
    SCAN_FS_SCALAR = 0,
    SCAN_FS_AVX2 = 1,
    SCAN_FS_AVX512BW = 2
};

/// The block kernel to run on this CPU: AVX2 when it has it (measured faster than AVX-512BW on AMD EPYC), else AVX-512BW, else scalar.
int scan_fs_best_isa(void);
/// 1 when the running CPU can run `isa`.
int scan_fs_isa_supported(int isa);

/// `dim` rounded up to SCAN_FS_DIM_ALIGN.
size_t scan_fs_padded_dim(size_t dim);
/// Bytes of `blocks` blocks.
size_t scan_fs_block_bytes(size_t pdim);

/// Writes the 4-bit codes of `rows` float rows x (row-major, `dim` values each) into image slots
/// first_slot ..< first_slot + rows of the blocked buffer `blocks` (whose bytes of those slots must
/// be zero). Code of value v in dimension d: round((v - lo[d]) * inv_step[d]) clamped to 0...15
/// (NaN codes 0). Two calls may run at once only on slots of different blocks.
void scan_fs_encode(const float *x, size_t rows, size_t dim, const float *lo, const float *inv_step,
                    uint8_t *blocks, size_t first_slot);

/// Reads the code of dimension d of image slot `slot`.
uint8_t scan_fs_code(const uint8_t *blocks, size_t pdim, size_t slot, size_t d);

/// Copies the codes of slots 0 ..< n of `src` into slots first_slot ..< first_slot + n of `dst`
/// (same pdim; the destination slots must be zero).
void scan_fs_copy_slots(const uint8_t *src, size_t n, size_t pdim, uint8_t *dst, size_t first_slot);

/// Quantises a float table (pdim x 16, entry [d][c]) to the 8-bit `lut`: entry - min_d(entry),
/// times one scale, rounded. The scale is the largest with every entry <= 255 and the sum of the
/// per-dimension maxima <= 65535. The float score is then about integer / scale + bias. Returns the
/// scale (0 when every entry of each dimension is equal) and writes the bias.
float scan_fs_quantize_lut(const float *table, size_t pdim, uint8_t *lut, float *bias);

/// The scores of the n images of `blocks` (ceil(n / 32) blocks; lanes past n are not written).
void scan_fs_scores(const uint8_t *blocks, size_t n, size_t pdim, const uint8_t *lut, int isa, uint16_t *out);

/// The shortlist of one query is kept as packed keys, one uint64 per image, so that ranking two
/// entries is one integer compare: key = score << 48 | (SCAN_FS_ID_MASK - id). A larger key is a
/// better entry: higher score first, then (equal scores) the lower id. Ids must be below 2^48;
/// keys of different ids differ.
#define SCAN_FS_ID_BITS 48
static inline uint64_t scan_fs_key(uint16_t score, uint64_t id) {
    return (uint64_t)score << SCAN_FS_ID_BITS | (((uint64_t)1 << SCAN_FS_ID_BITS) - 1 - id);
}
static inline uint64_t scan_fs_key_id(uint64_t key) {
    const uint64_t mask = ((uint64_t)1 << SCAN_FS_ID_BITS) - 1;
    return mask - (key & mask);
}
static inline uint16_t scan_fs_key_score(uint64_t key) { return (uint16_t)(key >> SCAN_FS_ID_BITS); }

/// A reservoir of the best `size` keys seen (the largest): entries are appended to a buffer of
/// 2 x size keys the caller owns; when it is full the best `size` are selected in place
/// (quickselect) and the worst of those becomes the threshold a later key must beat to enter.
/// The best `size` of everything offered are always among the buffer's entries.
typedef struct {
    uint64_t *keys;
    size_t size;
    size_t count;
    /// The size-th best key at the last compaction; meaningful only once `compacted` is 1.
    uint64_t threshold;
    int compacted;
} scan_fs_reservoir;

/// An empty reservoir of the best `size` keys over `keys` (2 x size entries).
void scan_fs_reservoir_init(scan_fs_reservoir *r, uint64_t *keys, size_t size);

/// Keeps the reservoir's best `size` entries in keys[0 ..< size] (in no order) and sets the
/// threshold; nothing is done while it holds `size` entries or fewer.
void scan_fs_reservoir_compact(scan_fs_reservoir *r);

/// The best `parts[0].size` keys of all the parts' entries, best first, in parts[0].keys; returns
/// how many (at most size). Every part must have the same size; the other parts' buffers are
/// reordered but their entries are not lost.
size_t scan_fs_reservoir_merge_sorted(scan_fs_reservoir *parts, size_t n_parts);

/// Scans the n images of `blocks` (ids first_id ..< first_id + n, all below 2^48) into `r`: an
/// image enters when its key beats the reservoir's threshold (always before the first compaction).
/// Ids whose bit is set in `excluded` (bit id % 64 of word id / 64; NULL: none; `excluded_words`
/// words) never enter. The result does not depend on how the images are split over calls.
void scan_fs_scan(const uint8_t *blocks, size_t n, size_t pdim, const uint8_t *lut, int isa,
                  uint64_t first_id, const uint64_t *excluded, size_t excluded_words, scan_fs_reservoir *r);

#endif
