import SCANModel

/// A small deterministic generator for tests (SplitMix64).
public struct TestRNG {
    var base: SplitMix64
    public init(seed: UInt64) { base = SplitMix64(seed: seed) }
    public mutating func next() -> UInt64 { base.next() }
    /// Uniform in [0, 1).
    public mutating func uniform() -> Float { base.uniform() }
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { base.uniform(lo, hi) }
    public mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    public mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    /// Uniform in [-1, 1) with 53 random bits.
    public mutating func float() -> Float { Float(Double(next() >> 11) / Double(1 << 53) * 2 - 1) }
    public mutating func floats(_ n: Int, scale: Float = 1) -> [Float] { (0..<n).map { _ in float() * scale } }

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
