// The fast scan's shortlist (CSCANFastScan.h): a reservoir of packed keys instead of a bounded heap.
// A heap pays O(log S) scattered swaps for each of the about S (1 + ln(N / S)) entries that beat its
// worst; the reservoir appends them (one store) and, each time S more have come, selects the best S
// of 2S in place in linear time, so a large shortlist costs about as much as a small one. Keys are
// unique (the id is part of the key), so the partitions below never meet equal keys.
#include "CSCANFastScan.h"

static inline void swap_keys(uint64_t *a, size_t i, size_t j) {
    uint64_t t = a[i]; a[i] = a[j]; a[j] = t;
}

// Below this many keys insertion sort beats another partition.
#define SMALL_RANGE 16

static void insertion_sort_desc(uint64_t *a, size_t n) {
    for (size_t i = 1; i < n; i++) {
        uint64_t v = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] < v) { a[j] = a[j - 1]; j--; }
        a[j] = v;
    }
}

// Partitions a[lo ... hi] (hi > lo) around the median of its first, middle and last keys: larger keys
// left of the returned position, smaller right, the pivot at it. The median of three keeps an input
// already in (either) order from taking quadratic time, which sorted runs from an earlier selection are.
static size_t partition_desc(uint64_t *a, size_t lo, size_t hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (a[mid] > a[lo]) swap_keys(a, mid, lo);
    if (a[hi] > a[lo]) swap_keys(a, hi, lo);
    if (a[mid] > a[hi]) swap_keys(a, mid, hi);
    // Now a[hi] is the median of the three.
    uint64_t pivot = a[hi];
    size_t store = lo;
    for (size_t i = lo; i < hi; i++) {
        // Branch-free: whether a key beats the pivot is a coin flip on scan output, and a
        // mispredicted branch per key costs more than an unconditional swap.
        uint64_t v = a[i];
        a[i] = a[store];
        a[store] = v;
        store += v > pivot;
    }
    swap_keys(a, store, hi);
    return store;
}

// Leaves the k largest of a[0 ..< n] (0 < k <= n) in a[0 ..< k] with the k-th largest at a[k - 1].
static void select_top(uint64_t *a, size_t n, size_t k) {
    size_t lo = 0, hi = n - 1, target = k - 1;
    while (hi > lo) {
        if (hi - lo < SMALL_RANGE) {
            insertion_sort_desc(a + lo, hi - lo + 1);
            return;
        }
        size_t p = partition_desc(a, lo, hi);
        if (p == target) return;
        if (target < p) hi = p - 1; else lo = p + 1;
    }
}

static void sort_desc(uint64_t *a, size_t n) {
    // Recursion only into the smaller side keeps the stack at O(log n).
    while (n > SMALL_RANGE) {
        size_t p = partition_desc(a, 0, n - 1);
        if (p < n - 1 - p) {
            sort_desc(a, p);
            a += p + 1;
            n -= p + 1;
        } else {
            sort_desc(a + p + 1, n - 1 - p);
            n = p;
        }
    }
    insertion_sort_desc(a, n);
}

void scan_fs_reservoir_init(scan_fs_reservoir *r, uint64_t *keys, size_t size) {
    r->keys = keys;
    r->size = size;
    r->count = 0;
    r->threshold = 0;
    r->compacted = 0;
}

void scan_fs_reservoir_compact(scan_fs_reservoir *r) {
    if (r->count <= r->size || r->size == 0) return;
    select_top(r->keys, r->count, r->size);
    r->count = r->size;
    // Every key kept is at least this one and each later key must beat it: it is the size-th best
    // of a subset of what was offered, so never above the size-th best of everything, and a key
    // not above it has `size` keys above it already.
    r->threshold = r->keys[r->size - 1];
    r->compacted = 1;
}

size_t scan_fs_reservoir_merge_sorted(scan_fs_reservoir *parts, size_t n_parts) {
    if (n_parts == 0) return 0;
    scan_fs_reservoir *r = &parts[0];
    if (r->size == 0) return 0;
    scan_fs_reservoir_compact(r);
    for (size_t p = 1; p < n_parts; p++) {
        scan_fs_reservoir_compact(&parts[p]);
        // Both hold at most `size` now, so the first buffer (2 x size) takes the other's whole.
        for (size_t i = 0; i < parts[p].count; i++) r->keys[r->count++] = parts[p].keys[i];
        scan_fs_reservoir_compact(r);
    }
    sort_desc(r->keys, r->count);
    return r->count;
}
