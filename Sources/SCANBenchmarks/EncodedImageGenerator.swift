import Foundation
import SCANCore
import SCANIndex
import SCANSearch
import SCANModel

/// Images generated already encoded, for benchmarks at sizes where running the image encoder would
/// take hours: each region is the l2-normalised mix of two of 4096 random unit directions (what
/// SCAN's image encoder outputs: unit vectors of embed_dim), the prefilter vector is the model's
/// prefilter of those regions (as a build computes it). Deterministic in (seed, index).
public struct EncodedImageGenerator: Sendable {
    public let regions: Int
    public let dim: Int
    public let seed: UInt64
    private let bank: [Float]
    private static let bankSize = 4096

    public init(regions: Int, dim: Int, seed: UInt64 = 5) {
        self.regions = regions
        self.dim = dim
        self.seed = seed
        var rng = SplitMix64(seed: seed)
        var b = (0..<(Self.bankSize * dim)).map { _ in rng.uniform(-1, 1) }
        VectorOps.l2normalizeRows(&b, dim: dim)
        bank = b
    }

    /// The regions of image `index` (regions x dim, row-major) written to `out`.
    public func regions(of index: Int, into out: UnsafeMutablePointer<Float>) {
        var s = (seed &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(index) &+ 1) &* 0xBF58_476D_1CE4_E5B9
        if s == 0 { s = 1 }
        bank.withUnsafeBufferPointer { bp in
            let b = bp.baseAddress!
            for r in 0..<regions {
                s ^= s << 13; s ^= s >> 7; s ^= s << 17
                let a = Int(s % UInt64(Self.bankSize)), c = Int((s >> 20) % UInt64(Self.bankSize))
                let w = Float((s >> 40) & 0xFFFF) / 65536
                let row = out + r * dim
                var norm: Float = 0
                for j in 0..<dim {
                    let v = b[a * dim + j] + w * b[c * dim + j]
                    row[j] = v
                    norm += v * v
                }
                let inv = 1 / max(norm.squareRoot(), 1e-12)
                for j in 0..<dim { row[j] *= inv }
            }
        }
    }

    /// Records `range`, ids "img<index>", with the prefilter vectors of `prefilter`.
    public func records(_ range: Range<Int>, prefilter: Prefilter) -> [ImageRecord] {
        var set = EmbeddingSet(dim: dim)
        var data = [Float](repeating: 0, count: range.count * regions * dim)
        data.withUnsafeMutableBufferPointer { p in
            let base = p.baseAddress!
            Parallel.forEach(range.count) { k in regions(of: range.lowerBound + k, into: base + k * regions * dim) }
        }
        for k in 0..<range.count {
            set.append(Tensor(shape: [regions, dim], data: Array(data[(k * regions * dim)..<((k + 1) * regions * dim)])))
        }
        let v = prefilter.vectors(set, side: .image)
        let p = v.shape[1]
        return (0..<range.count).map { k in
            ImageRecord(id: "img\(range.lowerBound + k)", source: "generated-encoded(seed \(seed))", captions: ["generated image \(range.lowerBound + k)"],
                        regions: set.item(k), prefilter: Array(v.data[(k * p)..<((k + 1) * p)]))
        }
    }
}
