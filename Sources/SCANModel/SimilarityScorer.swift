import SCANCore

/// The exact SCAN similarity of many images against many captions, fast (DESIGN §5).
///
/// Every t2i and i2t quantity follows from the region-word dot products P = R W^T and the Gram
/// matrices G_R = R R^T, G_W = W W^T: the cosine numerator of a query element is sum a * P and the
/// squared norm of its weighted context is a^T G a. So P for a block of images x a block of captions
/// is one large matrix product, and the rest is cheap per-pair work; no weighted context is ever
/// materialised in d dimensions. Results equal `CrossAttention.scoreMatrix` up to rounding.
public struct SimilarityScorer: Sendable {
    public var attention: CrossAttention
    /// Region rows per block of images (the product's M).
    public var regionBlock: Int
    /// Word rows per block of captions (the product's N).
    public var wordBlock: Int

    public init(attention: CrossAttention, regionBlock: Int = 4608, wordBlock: Int = 2048) {
        self.attention = attention; self.regionBlock = regionBlock; self.wordBlock = wordBlock
    }

    /// (n_images x n_captions) scores, row major, in float32.
    public func scores(images: EmbeddingSet, captions: EmbeddingSet,
                       progress: ((_ done: Int, _ total: Int) -> Void)? = nil) -> [Float] {
        scores(images: images, captions: captions, as: Float.self, progress: progress)
    }

    /// Splits a ragged set into consecutive item ranges of at most `rows` rows (at least one item each).
    static func blocks(_ set: EmbeddingSet, rows: Int) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var start = 0
        while start < set.count {
            var end = start + 1
            while end < set.count && set.offsets[end + 1] - set.offsets[start] <= rows { end += 1 }
            out.append(start..<end)
            start = end
        }
        return out
    }

    /// Gram matrix of every item (length x length each), concatenated; returns data and offsets.
    static func grams<T: ScoringScalar>(_ data: UnsafePointer<T>, _ set: EmbeddingSet) -> (data: [T], offsets: [Int]) {
        var offsets = [0]
        for i in 0..<set.count { offsets.append(offsets.last! + set.length(i) * set.length(i)) }
        var g = [T](repeating: 0, count: offsets.last!)
        let d = set.dim
        g.withUnsafeMutableBufferPointer { gp in
            let base = gp.baseAddress!
            Parallel.forChunks(set.count, minChunk: 64) { range in
                for i in range {
                    let n = set.length(i)
                    let x = data + set.offsets[i] * d
                    T.gemm(transA: false, transB: true, m: n, n: n, k: d, a: x, lda: d, b: x, ldb: d, c: base + offsets[i], ldc: n)
                }
            }
        }
        return (g, offsets)
    }

    /// (n_images x n_captions) scores in `T`.
    public func scores<T: ScoringScalar>(images: EmbeddingSet, captions: EmbeddingSet, as: T.Type,
                                         progress: ((_ done: Int, _ total: Int) -> Void)? = nil) -> [T] {
        precondition(images.dim == captions.dim, "image and caption embeddings differ in dimension")
        let nImg = images.count, nCap = captions.count
        var out = [T](repeating: 0, count: nImg * nCap)
        if nImg == 0 || nCap == 0 { return out }
        // For Float the arrays are shared as they are (`as!` would copy them element by element).
        let img: [T] = T.self == Float.self ? unsafeBitCast(images.data, to: [T].self) : images.data.map { T($0) }
        let cap: [T] = T.self == Float.self ? unsafeBitCast(captions.data, to: [T].self) : captions.data.map { T($0) }
        let imageBlocks = Self.blocks(images, rows: regionBlock)
        let captionBlocks = Self.blocks(captions, rows: wordBlock)
        let total = nImg * nCap
        var done = 0
        let blasThreads = BLAS.threadCount
        img.withUnsafeBufferPointer { ip in
        cap.withUnsafeBufferPointer { cp in
        out.withUnsafeMutableBufferPointer { op in
            let outBase = op.baseAddress!
            // The context side supplies the rows of each product block and its Gram matrices; the
            // query side supplies the columns and their norms. t2i: images are contexts, words
            // queries; i2t: the reverse. The score of image i and caption c lands at i * nCap + c.
            let t2i = attention.direction == .t2i
            let (contexts, contextData, contextBlocks) = t2i ? (images, ip.baseAddress!, imageBlocks) : (captions, cp.baseAddress!, captionBlocks)
            let (queries, queryData, queryBlocks) = t2i ? (captions, cp.baseAddress!, captionBlocks) : (images, ip.baseAddress!, imageBlocks)
            let (gram, gramOffsets) = Self.grams(contextData, contexts)
            let queryNorms = Self.rowNorms(queryData, rows: queries.totalRows, dim: queries.dim)
            let outputIndex: (Int, Int) -> Int = t2i ? { c, q in c * nCap + q } : { c, q in q * nCap + c }
            gram.withUnsafeBufferPointer { gp in
                for cb in contextBlocks {
                    for qb in queryBlocks {
                        attendBlock(contexts: contexts, contextRange: cb, contextData: contextData, gram: gp.baseAddress!,
                                    gramOffsets: gramOffsets, queries: queries, queryRange: qb, queryData: queryData,
                                    queryNorms: queryNorms, out: outBase, outputIndex: outputIndex, blasThreads: blasThreads)
                        done += cb.count * qb.count
                        progress?(done, total)
                    }
                }
            }
        }}}
        return out
    }

    static func rowNorms<T: ScoringScalar>(_ x: UnsafePointer<T>, rows: Int, dim: Int) -> [T] {
        var out = [T](repeating: 0, count: rows)
        out.withUnsafeMutableBufferPointer { o in
            for r in 0..<rows {
                var s: T = 0
                let p = x + r * dim
                for k in 0..<dim { s += p[k] * p[k] }
                o[r] = s.squareRoot()
            }
        }
        return out
    }

    /// One block of context items x query items. For each context item (an image in t2i, a caption
    /// in i2t) all query items of the block at once: the rows of P for that item (contexts x all
    /// query elements of the block), the raw norm along each query item's elements, the softmax of
    /// every query element over the contexts, then cosine numerator sum a * P and the squared norm
    /// of the weighted context a^T G a, and the aggregation over each query item's elements.
    func attendBlock<T: ScoringScalar>(contexts: EmbeddingSet, contextRange: Range<Int>, contextData: UnsafePointer<T>,
                                       gram: UnsafePointer<T>, gramOffsets: [Int],
                                       queries: EmbeddingSet, queryRange: Range<Int>, queryData: UnsafePointer<T>, queryNorms: [T],
                                       out: UnsafeMutablePointer<T>, outputIndex: (Int, Int) -> Int, blasThreads: Int) {
        let d = contexts.dim
        let c0 = contexts.offsets[contextRange.lowerBound], nC = contexts.offsets[contextRange.upperBound] - c0
        let q0 = queries.offsets[queryRange.lowerBound], nQ = queries.offsets[queryRange.upperBound] - q0
        var p = [T](repeating: 0, count: nC * nQ)
        p.withUnsafeMutableBufferPointer { pp in
            // The one large product: every context row of the block against every query row.
            T.gemm(transA: false, transB: true, m: nC, n: nQ, k: d, a: contextData + c0 * d, lda: d,
                   b: queryData + q0 * d, ldb: d, c: pp.baseAddress!, ldc: nQ)
        }
        let maxRows = contextRange.map { contexts.length($0) }.max() ?? 0
        let norm = attention.rawFeatureNorm.kernelCode
        let lambda = T(attention.lambdaSoftmax)
        let lambdaLSE = T(attention.lambdaLSE)
        let agg = attention.aggFunc
        // The per-item work below runs on all cores; each of its small products on one thread.
        BLAS.setThreadCount(1)
        defer { BLAS.setThreadCount(blasThreads) }
        p.withUnsafeBufferPointer { pp in
        queryNorms.withUnsafeBufferPointer { qn in
            Parallel.forChunks(contextRange.count) { chunk in
                var a = [T](repeating: 0, count: maxRows * nQ)
                var m = [T](repeating: 0, count: maxRows * nQ)
                var num = [T](repeating: 0, count: nQ)
                var q = [T](repeating: 0, count: nQ)
                a.withUnsafeMutableBufferPointer { ab in
                m.withUnsafeMutableBufferPointer { mb in
                num.withUnsafeMutableBufferPointer { nb in
                q.withUnsafeMutableBufferPointer { qb in
                    let A = ab.baseAddress!, M = mb.baseAddress!, NUM = nb.baseAddress!, Q = qb.baseAddress!
                    for k in chunk {
                        let c = contextRange.lowerBound + k
                        let rows = contexts.length(c)
                        let pc = pp.baseAddress! + (contexts.offsets[c] - c0) * nQ
                        A.update(from: pc, count: rows * nQ)
                        if norm != RawFeatureNorm.noNorm.kernelCode {
                            for j in queryRange {
                                T.rawNorm(A + (queries.offsets[j] - q0), rows: rows, n: queries.length(j), ld: nQ, norm: norm)
                            }
                        }
                        T.columnSoftmax(A, rows: rows, cols: nQ, ld: nQ, lambda: lambda)
                        T.columnDot(A, lda: nQ, pc, ldb: nQ, rows: rows, cols: nQ, into: NUM)
                        T.gemm(transA: false, transB: false, m: rows, n: nQ, k: rows, a: gram + gramOffsets[c], lda: rows,
                               b: A, ldb: nQ, c: M, ldc: nQ)
                        T.columnDot(A, lda: nQ, M, ldb: nQ, rows: rows, cols: nQ, into: Q)
                        for e in 0..<nQ {
                            NUM[e] = NUM[e] / max(qn[q0 + e] * max(Q[e], 0).squareRoot(), T(1e-8))
                        }
                        for j in queryRange {
                            out[outputIndex(c, j)] = CrossAttention.aggregate(UnsafePointer(NUM + (queries.offsets[j] - q0)),
                                                                              count: queries.length(j), agg: agg, lambdaLSE: lambdaLSE)
                        }
                    }
                }}}}
            }
        }}
    }
}
