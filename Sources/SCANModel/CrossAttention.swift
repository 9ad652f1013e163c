import Foundation

/// SCAN's stacked cross attention for one image and one caption, exactly as the original's
/// `func_attention` + `xattn_score_t2i` / `xattn_score_i2t`, computed the straightforward way
/// (the weighted context is materialised). Generic so that it also runs in Double, which is the
/// original's evaluation arithmetic; `SimilarityScorer` is the fast path for many pairs.
public struct CrossAttention: Sendable, Equatable {
    public var direction: CrossAttn
    public var rawFeatureNorm: RawFeatureNorm
    public var aggFunc: AggFunc
    public var lambdaSoftmax: Double
    public var lambdaLSE: Double

    public init(direction: CrossAttn, rawFeatureNorm: RawFeatureNorm, aggFunc: AggFunc, lambdaSoftmax: Double, lambdaLSE: Double) {
        self.direction = direction; self.rawFeatureNorm = rawFeatureNorm; self.aggFunc = aggFunc
        self.lambdaSoftmax = lambdaSoftmax; self.lambdaLSE = lambdaLSE
    }

    public init(config: ModelConfig) {
        self.init(direction: config.crossAttn, rawFeatureNorm: config.rawFeatureNorm, aggFunc: config.aggFunc,
                  lambdaSoftmax: config.lambdaSoftmax, lambdaLSE: config.lambdaLSE)
    }

    /// Normalises attention logits `a[c * nq + q]` (context rows, query columns) along the query axis.
    @inlinable
    public static func normalizeAlongQuery<T: BinaryFloatingPoint & ElementaryFunctionsProvider>(
        _ a: UnsafeMutablePointer<T>, contexts nc: Int, queries nq: Int, norm: RawFeatureNorm
    ) {
        for c in 0..<nc {
            let row = a + c * nq
            RawFeatureNormalization.forward(UnsafePointer(row), stride: 1, count: nq, norm: norm, y: row)
        }
    }

    /// Aggregates per-element cosine similarities into one score.
    @inlinable
    public static func aggregate<T: BinaryFloatingPoint & ElementaryFunctionsProvider>(
        _ s: UnsafePointer<T>, count n: Int, agg: AggFunc, lambdaLSE: T
    ) -> T {
        switch agg {
        case .logSumExp:
            // The original computes log(sum(exp(lambda * s))) / lambda directly, with no max shift.
            var acc: T = 0
            for i in 0..<n { acc += T.exp(lambdaLSE * s[i]) }
            return T.log(acc) / lambdaLSE
        case .mean:
            var acc: T = 0
            for i in 0..<n { acc += s[i] }
            return acc / T(n)
        case .sum:
            var acc: T = 0
            for i in 0..<n { acc += s[i] }
            return acc
        case .max:
            var m = s[0]
            for i in 1..<max(1, n) where s[i] > m { m = s[i] }
            return m
        }
    }

    /// Score of one image (regions nr x d) against one caption (words nw x d), both row major.
    public func score<T: BinaryFloatingPoint & ElementaryFunctionsProvider>(
        regions: UnsafePointer<T>, nRegions nr: Int, words: UnsafePointer<T>, nWords nw: Int, dim d: Int
    ) -> T {
        // t2i: queries are words and contexts regions; i2t the reverse.
        let (query, nq, context, nc) = direction == .t2i ? (words, nw, regions, nr) : (regions, nr, words, nw)
        // attn[c][q] = context_c . query_q
        var attn = [T](repeating: 0, count: nc * nq)
        var sims = [T](repeating: 0, count: nq)
        var weighted = [T](repeating: 0, count: d)
        let lambda = T(lambdaSoftmax)
        attn.withUnsafeMutableBufferPointer { aBuf in
            let a = aBuf.baseAddress!
            for c in 0..<nc {
                for q in 0..<nq {
                    var s: T = 0
                    for k in 0..<d { s += context[c * d + k] * query[q * d + k] }
                    a[c * nq + q] = s
                }
            }
            Self.normalizeAlongQuery(a, contexts: nc, queries: nq, norm: rawFeatureNorm)
            for q in 0..<nq {
                // softmax over contexts of lambda * attn[:, q]
                var m = lambda * a[q]
                for c in 1..<nc where lambda * a[c * nq + q] > m { m = lambda * a[c * nq + q] }
                var weights = [T](repeating: 0, count: nc)
                var total: T = 0
                for c in 0..<nc { weights[c] = T.exp(lambda * a[c * nq + q] - m); total += weights[c] }
                for k in 0..<d { weighted[k] = 0 }
                for c in 0..<nc {
                    let w = weights[c] / total
                    for k in 0..<d { weighted[k] += w * context[c * d + k] }
                }
                var dot: T = 0, n1: T = 0, n2: T = 0
                for k in 0..<d {
                    dot += query[q * d + k] * weighted[k]
                    n1 += query[q * d + k] * query[q * d + k]
                    n2 += weighted[k] * weighted[k]
                }
                sims[q] = dot / max(n1.squareRoot() * n2.squareRoot(), T(1e-8))
            }
        }
        return sims.withUnsafeBufferPointer { Self.aggregate($0.baseAddress!, count: nq, agg: aggFunc, lambdaLSE: T(lambdaLSE)) }
    }

    /// The (n_images x n_captions) matrix, straightforwardly, in `T` (Float or Double).
    public func scoreMatrix<T: BinaryFloatingPoint & ElementaryFunctionsProvider>(
        images: EmbeddingSet, captions: EmbeddingSet, as: T.Type
    ) -> [T] {
        precondition(images.dim == captions.dim)
        let d = images.dim
        let img = images.data.map { T($0) }
        let cap = captions.data.map { T($0) }
        var out = [T](repeating: 0, count: images.count * captions.count)
        let nCap = captions.count
        img.withUnsafeBufferPointer { ip in
            cap.withUnsafeBufferPointer { cp in
                out.withUnsafeMutableBufferPointer { op in
                    let opBase = op.baseAddress!
                    ParallelPairs.forEach(images.count * nCap) { idx in
                        let (i, j) = (idx / nCap, idx % nCap)
                        opBase[idx] = score(regions: ip.baseAddress! + images.offsets[i] * d, nRegions: images.length(i),
                                            words: cp.baseAddress! + captions.offsets[j] * d, nWords: captions.length(j), dim: d)
                    }
                }
            }
        }
        return out
    }
}

/// exp and log for the generic attention code (Float and Double).
public protocol ElementaryFunctionsProvider {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
}

extension Float: ElementaryFunctionsProvider {
    @inlinable public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inlinable public static func log(_ x: Float) -> Float { Foundation.log(x) }
}

extension Double: ElementaryFunctionsProvider {
    @inlinable public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inlinable public static func log(_ x: Double) -> Double { Foundation.log(x) }
}
