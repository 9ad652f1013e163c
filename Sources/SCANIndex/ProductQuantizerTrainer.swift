import SCANCore

/// k-means per sub-space (Lloyd's iterations from distinct random sample rows), the codebook
/// training of product quantisation. Runs at build time on a sample of the collection's encoded
/// regions; deterministic for a seed.
public struct ProductQuantizerTrainer: Sendable {
    public var centroids = 256
    public var iterations = 12
    public var seed: UInt64 = 17

    public init() {}

    /// Trains on `rows` sample vectors (row-major, `dim` floats each).
    public func train(_ samples: [Float], rows: Int, dim: Int, subDim: Int) throws -> ProductQuantizer {
        guard rows >= 1, samples.count == rows * dim else {
            throw IndexError.invalidRecord(record: "codebook", field: "samples", expected: "rows x \(dim) values, rows >= 1", found: "\(samples.count) values")
        }
        guard dim % subDim == 0 else {
            throw IndexError.invalidRecord(record: "codebook", field: "sub_dim", expected: "a divisor of dim \(dim)", found: "\(subDim)")
        }
        let c = min(centroids, rows), m = dim / subDim, d = subDim
        // Initial centroids: k-means++ per sub-space on a subsample (spread-out seeds; Lloyd's
        // iterations alone do not separate two seeds that start in one cluster).
        var rng = SplitMix64(seed: seed)
        let pool = min(rows, max(c * 16, 1))
        var order = Array(0..<rows)
        for i in 0..<pool {
            let j = i + Int(rng.next() % UInt64(rows - i))
            order.swapAt(i, j)
        }
        var cb = [Float](repeating: 0, count: m * c * d)
        let seeds = (0..<m).map { s in rng.next() ^ UInt64(s) }
        cb.withUnsafeMutableBufferPointer { cbp in
            let out = cbp.baseAddress!
            Parallel.forEach(m) { s in
                var r = SplitMix64(seed: seeds[s])
                var best = [Float](repeating: .infinity, count: pool)
                var chosen = order[Int(r.next() % UInt64(pool))]
                for k in 0..<c {
                    for j in 0..<d { out[(s * c + k) * d + j] = samples[chosen * dim + s * d + j] }
                    var total: Double = 0
                    for i in 0..<pool {
                        var dd: Float = 0
                        for j in 0..<d { let t = samples[order[i] * dim + s * d + j] - out[(s * c + k) * d + j]; dd += t * t }
                        best[i] = min(best[i], dd)
                        total += Double(best[i])
                    }
                    // The next seed with probability proportional to its squared distance.
                    var target = Double(r.uniform()) * total
                    var pick = Int(r.next() % UInt64(pool))
                    if total > 0 {
                        for i in 0..<pool {
                            target -= Double(best[i])
                            if target <= 0 { pick = i; break }
                        }
                    }
                    chosen = order[pick]
                }
            }
        }
        var pq = try ProductQuantizer(dim: dim, subDim: subDim, centroidCount: c, centroids: cb)
        var codes = [UInt8](repeating: 0, count: rows * m)
        for _ in 0..<iterations {
            assign(pq, samples, rows: rows, codes: &codes)
            var sums = [Double](repeating: 0, count: m * c * d)
            var counts = [Int](repeating: 0, count: m * c)
            for r in 0..<rows {
                for s in 0..<m {
                    let k = Int(codes[r * m + s])
                    counts[s * c + k] += 1
                    let o = (s * c + k) * d, x = r * dim + s * d
                    for j in 0..<d { sums[o + j] += Double(samples[x + j]) }
                }
            }
            for s in 0..<m {
                for k in 0..<c {
                    let o = (s * c + k) * d
                    if counts[s * c + k] == 0 {
                        // An empty cluster restarts at a random sample's sub-vector.
                        let r = Int(rng.next() % UInt64(rows))
                        for j in 0..<d { cb[o + j] = samples[r * dim + s * d + j] }
                    } else {
                        let inv = 1 / Double(counts[s * c + k])
                        for j in 0..<d { cb[o + j] = Float(sums[o + j] * inv) }
                    }
                }
            }
            pq = try ProductQuantizer(dim: dim, subDim: subDim, centroidCount: c, centroids: cb)
        }
        return pq
    }

    private func assign(_ pq: ProductQuantizer, _ samples: [Float], rows: Int, codes: inout [UInt8]) {
        let m = pq.subspaces, dim = pq.dim
        samples.withUnsafeBufferPointer { x in
            codes.withUnsafeMutableBufferPointer { out in
                let xb = x.baseAddress!, ob = out.baseAddress!
                Parallel.forChunks(rows, minChunk: 256) { range in
                    pq.encode(xb + range.lowerBound * dim, rows: range.count, into: ob + range.lowerBound * m)
                }
            }
        }
    }
}
