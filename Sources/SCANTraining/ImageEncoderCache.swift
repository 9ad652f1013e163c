/// What the image encoder's forward keeps for its backward.
struct ImageEncoderCache<T: TrainScalar> {
    var rows = 0
    /// (N x D) fc output before the norm.
    var pre: [T] = []
    /// (N) row norms of `pre` (empty with no_imgnorm).
    var norms: [T] = []
    /// (N x D) the encoder output (the region embeddings).
    var out: [T] = []
    var normalize = true
}
