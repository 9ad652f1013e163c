import SCANModel

/// Which token each (step, caption) visits: shared by both directions of a batch.
struct PackedSchedule {
    /// Start of each caption's tokens (count + 1).
    let offsets: [Int]
    let lengths: [Int]
    /// Captions longest first (stable), so the alive ones at any step are a prefix.
    let order: [Int]
    /// alive[t] = number of captions with length > t.
    let alive: [Int]
    /// Time-major row of (t, 0); count maxLen + 1.
    let stepOffsets: [Int]

    init(lengths: [Int]) {
        self.lengths = lengths
        var offs = [0]
        for l in lengths { offs.append(offs.last! + l) }
        offsets = offs
        order = lengths.indices.sorted { lengths[$0] > lengths[$1] || (lengths[$0] == lengths[$1] && $0 < $1) }
        let maxLen = lengths.max() ?? 0
        alive = (0..<maxLen).map { t in lengths.reduce(0) { $0 + ($1 > t ? 1 : 0) } }
        var so = [0]
        for a in alive { so.append(so.last! + a) }
        stepOffsets = so
    }

    var tokens: Int { offsets.last! }
    var maxLength: Int { alive.count }

    /// Packed-order row of the i-th alive caption at step t.
    @inline(__always)
    func tokenRow(step t: Int, slot i: Int, reverse: Bool) -> Int {
        let s = order[i]
        return offsets[s] + (reverse ? lengths[s] - 1 - t : t)
    }
}
