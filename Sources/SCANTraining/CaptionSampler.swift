/// The original's sampling: every epoch visits the captions in a fresh random order (the
/// DataLoader's shuffle), cut into batches of `batchSize` (the last one may be smaller), each batch
/// sorted by caption length, longest first (`collate_fn`). The order of epoch e depends only on
/// (seed, e), so a resumed run sees exactly the batches of an uninterrupted one.
public struct CaptionSampler: Sendable {
    public let lengths: [Int]
    public let batchSize: Int
    public let seed: UInt64

    public init(lengths: [Int], batchSize: Int, seed: UInt64) {
        self.lengths = lengths; self.batchSize = batchSize; self.seed = seed
    }

    public var batchesPerEpoch: Int { (lengths.count + batchSize - 1) / batchSize }

    /// Caption indices of every batch of `epoch`.
    public func batches(epoch: Int) -> [[Int]] {
        var rng = SplitMix64(seed: seed &+ 0x5CA7_0000 &+ UInt64(epoch) &* 0x9E37_79B9)
        let order = rng.shuffled(Array(0..<lengths.count))
        var out: [[Int]] = []
        var start = 0
        while start < order.count {
            let batch = order[start..<min(order.count, start + batchSize)]
            // Stable sort by length descending: ties keep the shuffled order.
            out.append(batch.enumerated().sorted { a, b in
                lengths[a.element] != lengths[b.element] ? lengths[a.element] > lengths[b.element] : a.offset < b.offset
            }.map(\.element))
            start += batchSize
        }
        return out
    }
}
