import SCANModel

struct GRUCache<T: TrainScalar> {
    var reverse = false
    var hidden = 0
    /// (U x G): x W_ih^T + b_ih per distinct input row.
    var gi: [T] = []
    /// (T) packed: the input row of every token.
    var inputRow: [Int] = []
    var inputRows = 0
    /// (T x H) time-major: the state entering the step (zeros at t = 0).
    var hprev: [T] = []
    /// (T x H) time-major gate values r, z, n and hn = W_hn h + b_hn.
    var r: [T] = []
    var z: [T] = []
    var n: [T] = []
    var hn: [T] = []
    /// (T x H) packed: the output state at every token.
    var out: [T] = []
}
