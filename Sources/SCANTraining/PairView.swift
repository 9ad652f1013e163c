import SCANModel
import CSCANKernels

/// Where a pair's elements live in the (NR x NW) matrices and the per-query arrays.
struct PairView {
    /// Element (c, q) is at base + c * cs + q * qs.
    var base: Int
    var contexts: Int
    var queries: Int
    var cs: Int
    var qs: Int
    /// Per-query arrays: element q at qBase + q * qStride.
    var qBase: Int
    var qStride: Int
    /// Start of the pair's queries in `queryNorms`.
    var normBase: Int

    init(i: Int, j: Int, direction: CrossAttn, regionOffsets ro: [Int], wordOffsets wo: [Int]) {
        let nw = wo.last!, bc = wo.count - 1
        let nr = ro[i + 1] - ro[i], nwj = wo[j + 1] - wo[j]
        base = ro[i] * nw + wo[j]
        switch direction {
        case .t2i:
            contexts = nr; queries = nwj; cs = nw; qs = 1
            qBase = i * nw + wo[j]; qStride = 1; normBase = wo[j]
        case .i2t:
            contexts = nwj; queries = nr; cs = 1; qs = nw
            qBase = ro[i] * bc + j; qStride = bc; normBase = ro[i]
        }
    }
}
