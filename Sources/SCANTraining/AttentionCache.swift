import SCANModel
import CSCANKernels

/// SCAN's stacked cross attention for a whole batch, forward and backward, by the exact shortcut of
/// DESIGN §5: every quantity of a pair (image i, caption j) is a function of the region-word dot
/// products P = R W^T, the context Gram matrix (G_R = R R^T for t2i, G_W = W W^T for i2t) and the
/// query norms, so the weighted contexts are never materialised in D dimensions:
///   num_q = sum_c a_cq P_cq,   |weighted_q|^2 = a_q^T G a_q,   s_q = num_q / max(|query_q| |weighted_q|, 1e-8).
/// P for all pairs is one (NR x NW) gemm; the backward returns to R and W through dP (two gemms)
/// and the Gram gradients (dG = sum_q dwn2_q a_q a_q^T, one small gemm per context item).
///
/// Shapes: NR regions of all images (rows), NW words of all captions (columns), D embed;
/// BI images, BC captions. Matrices over pairs are (NR x NW) with the pair (i, j) the block of
/// image i's rows and caption j's columns. In a pair, "contexts" c and "queries" q are regions and
/// words (t2i) or words and regions (i2t).
struct AttentionCache<T: TrainScalar> {
    var regionOffsets: [Int] = [0]
    var wordOffsets: [Int] = [0]
    var dim = 0
    /// (NR x NW) P = R W^T (and padding the fused kernel may read past the end).
    var p: [T] = []
    /// Gram matrix of every context item (images' regions for t2i, captions' words for i2t), concatenated.
    var grams: [T] = []
    var gramOffsets: [Int] = [0]
    /// Query norms: |W_w| (NW) for t2i, |R_r| (NR) for i2t (and padding).
    var queryNorms: [T] = []
    /// The forward computes only the scores; these per-pair quantities are filled by `materialize`
    /// for the pairs the backward needs (with max_violation, about 3 per image of the batch):
    /// (NR x NW) attention weights a (softmax over the contexts of lambda_softmax * norm(P)).
    var a: [T] = []
    /// (NR x NW) the context Gram matrix times a (per pair).
    var m: [T] = []
    /// Per query element of each pair: t2i (BI x NW) at [i][w], i2t (NR x BC) at [r][j].
    var sims: [T] = []
    var weightedNorms: [T] = []
    /// (BI x BC) the scores.
    var scores: [T] = []

    var imageCount: Int { regionOffsets.count - 1 }
    var captionCount: Int { wordOffsets.count - 1 }
    var regionRows: Int { regionOffsets.last! }
    var wordColumns: Int { wordOffsets.last! }
}
