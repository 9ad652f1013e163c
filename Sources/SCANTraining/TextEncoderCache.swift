import SCANModel

/// What the text encoder's forward keeps for its backward.
struct TextEncoderCache<T: TrainScalar> {
    var schedule: PackedSchedule
    var tokens: TokenIndex
    /// (U x E) embeddings of the distinct ids.
    var x: [T] = []
    var forward = GRUCache<T>()
    var backward: GRUCache<T>?
    /// (T x H) GRU output (mean of the directions) before the norm.
    var pre: [T] = []
    /// (T) norms of `pre` rows (empty with no_txtnorm).
    var norms: [T] = []
    /// (T x H) the word embeddings.
    var out: [T] = []
    var normalize = true
}
