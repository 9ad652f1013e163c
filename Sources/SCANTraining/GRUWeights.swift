import SCANModel

/// One direction of a single-layer PyTorch GRU over packed sequences, forward and backward through
/// time, batched over the captions: one gemm per time step for all captions still alive, the input
/// projections of all tokens in one gemm; backward likewise, with dW_hh, dW_ih and dx each one gemm
/// over all tokens at the end.
///
///   r = sigm(W_ir x + b_ir + W_hr h + b_hr); z = sigm(W_iz x + b_iz + W_hz h + b_hz)
///   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h; h0 = 0.
///
/// Shapes: T tokens of the batch (caption after caption, "packed order"), E input size, H hidden,
/// G = 3H (gate rows r; z; n), U distinct input rows: the input x holds one row per distinct token
/// id and `inputRow[t]` says which row token t reads, so the input products (x W_ih^T, dW_ih, dx)
/// run over the U distinct words of the batch rather than all T tokens (<start>, <end>, "a",
/// "the" ... repeat; on Flickr30K batches U is well under T). Per-step quantities are stored in "time-major order": row
/// `stepOffsets[t] + i` is the i-th longest caption at step t (the captions alive at step t are a
/// prefix of the longest-first order).
struct GRUWeights<T: TrainScalar> {
    /// (G x E)
    var wih: UnsafePointer<T>
    /// (G x H)
    var whh: UnsafePointer<T>
    /// (G)
    var bih: UnsafePointer<T>
    /// (G)
    var bhh: UnsafePointer<T>
}
