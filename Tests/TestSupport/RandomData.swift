import SCANModel

/// A small deterministic generator for tests (SplitMix64).
public struct TestRNG {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 24) }
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * uniform() }
    public mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }

    /// A ragged set of `count` items with lengths in `lengths`, l2-normalised rows unless `normalize` is false.
    public mutating func embeddings(count: Int, lengths: ClosedRange<Int>, dim: Int, normalize: Bool = true) -> EmbeddingSet {
        var set = EmbeddingSet(dim: dim)
        for _ in 0..<count {
            let n = int(lengths)
            var rows = (0..<(n * dim)).map { _ in uniform(-1, 1) }
            if normalize { VectorOps.l2normalizeRows(&rows, dim: dim) }
            set.append(Tensor(shape: [n, dim], data: rows))
        }
        return set
    }
}
