import SCANCore
import CSCANKernels

/// The exact SCAN similarity of many images against many captions, fast (DESIGN §5).
///
/// Every t2i and i2t quantity follows from the region-word dot products P = R W^T and the Gram
/// matrices G_R = R R^T, G_W = W W^T: the cosine numerator of a query element is sum a * P and the
/// squared norm of its weighted context is a^T G a. So P for a block of images x a block of captions
/// is one large matrix product, and the rest is cheap per-pair work; no weighted context is ever
/// materialised in d dimensions. Results equal `CrossAttention.scoreMatrix` up to rounding.
public struct SimilarityScorer: Sendable {
    public var attention: CrossAttention
    /// Context rows per tile (the product's M): regions in t2i, words in i2t.
    public var contextRows: Int
    /// Query rows per tile (the product's N): words in t2i, regions in i2t.
    public var queryRows: Int

    /// The defaults make a tile's products (9.4 MB per core) stay in the last-level cache while the
    /// per-pair work reads them, and keep a single-threaded sgemm at the rate of a shared one.
    public init(attention: CrossAttention, contextRows: Int = 1152, queryRows: Int = 2048) {
        self.attention = attention; self.contextRows = contextRows; self.queryRows = queryRows
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
    ///
    /// The work is a list of tiles (a range of context items x a range of query items). Each core
    /// takes the next tile, computes its products with a single-threaded sgemm and scores its pairs
    /// at once while they are in cache. Two single-threaded products run as fast as one shared one
    /// here, and no BLAS thread spins idle while the cores do the per-pair work. OpenBLAS's thread
    /// count is process-wide: it is 1 while this runs and restored afterwards, so callers that use
    /// BLAS on other threads at the same time get single-threaded products meanwhile.
    public func scores<T: ScoringScalar>(images: EmbeddingSet, captions: EmbeddingSet, as: T.Type,
                                         progress: ((_ done: Int, _ total: Int) -> Void)? = nil) -> [T] {
        precondition(images.dim == captions.dim, "image and caption embeddings differ in dimension")
        let nImg = images.count, nCap = captions.count
        var out = [T](repeating: 0, count: nImg * nCap)
        if nImg == 0 || nCap == 0 { return out }
        // For Float the arrays are shared as they are (`as!` would copy them element by element).
        let img: [T] = T.self == Float.self ? unsafeBitCast(images.data, to: [T].self) : images.data.map { T($0) }
        let cap: [T] = T.self == Float.self ? unsafeBitCast(captions.data, to: [T].self) : captions.data.map { T($0) }
        let blasThreads = BLAS.threadCount
        BLAS.setThreadCount(1)
        defer { BLAS.setThreadCount(blasThreads) }
        img.withUnsafeBufferPointer { ip in
        cap.withUnsafeBufferPointer { cp in
        out.withUnsafeMutableBufferPointer { op in
            // The context side supplies the rows of each tile's product and its Gram matrices; the
            // query side supplies the columns and their norms. t2i: images are contexts, words
            // queries; i2t: the reverse. The score of image i and caption c lands at i * nCap + c.
            let t2i = attention.direction == .t2i
            let (contexts, contextData) = t2i ? (images, ip.baseAddress!) : (captions, cp.baseAddress!)
            let (queries, queryData) = t2i ? (captions, cp.baseAddress!) : (images, ip.baseAddress!)
            let contextBlocks = Self.blocks(contexts, rows: contextRows)
            let queryBlocks = Self.blocks(queries, rows: queryRows)
            let (gram, gramOffsets) = Self.grams(contextData, contexts)
            // The kernel reads whole column tiles: past the last query norm and the last product row.
            let padding = scan_attend_padding()
            let queryNorms = Self.rowNorms(queryData, rows: queries.totalRows, dim: queries.dim, padding: padding)
            let rowsOf = { (set: EmbeddingSet, r: Range<Int>) in set.offsets[r.upperBound] - set.offsets[r.lowerBound] }
            let pCount = (contextBlocks.map { rowsOf(contexts, $0) }.max() ?? 0) * (queryBlocks.map { rowsOf(queries, $0) }.max() ?? 0)
            let maxRows = (0..<contexts.count).map { contexts.length($0) }.max() ?? 0
            let workCount = scan_attend_workspace(maxRows, queryBlocks.map { rowsOf(queries, $0) }.max() ?? 0)
            let outBase = op.baseAddress!
            let outputIndex: (Int, Int) -> Int = t2i ? { c, q in c * nCap + q } : { c, q in q * nCap + c }
            // Tiles ordered query block by query block, so that the cores share one block's rows in cache.
            let tiles = queryBlocks.flatMap { qb in contextBlocks.map { cb in (cb, qb) } }
            let total = nImg * nCap
            let scheduler = TileScheduler(count: tiles.count)
            gram.withUnsafeBufferPointer { gp in
            queryNorms.withUnsafeBufferPointer { qn in
                Parallel.forChunks(min(Parallel.available, tiles.count)) { _ in
                    // Buffers once per worker, not per tile (zeroing tens of MB per tile cost a fifth of
                    // the product in page faults); zeroed once so that the padding the kernel reads is defined.
                    let p = UnsafeMutablePointer<T>.allocate(capacity: pCount + padding)
                    p.initialize(repeating: 0, count: pCount + padding)
                    let work = UnsafeMutablePointer<T>.allocate(capacity: workCount)
                    defer { p.deallocate(); work.deallocate() }
                    while let t = scheduler.next() {
                        let (cb, qb) = tiles[t]
                        attendTile(contexts: contexts, contextRange: cb, contextData: contextData, gram: gp.baseAddress!,
                                   gramOffsets: gramOffsets, queries: queries, queryRange: qb, queryData: queryData,
                                   queryNorms: qn.baseAddress!, p: p, work: work, out: outBase, outputIndex: outputIndex,
                                   outputStride: t2i ? 1 : nCap)
                        if let progress { scheduler.finished(cb.count * qb.count) { progress($0, total) } }
                    }
                }
            }}
        }}}
        return out
    }

    /// Row norms followed by `padding` zeros (the kernel reads whole column tiles).
    static func rowNorms<T: ScoringScalar>(_ x: UnsafePointer<T>, rows: Int, dim: Int, padding: Int) -> [T] {
        var out = [T](repeating: 0, count: rows + padding)
        out.withUnsafeMutableBufferPointer { VectorOps.rowNorms(x, rows: rows, dim: dim, into: $0.baseAddress!) }
        return out
    }

    /// One tile of context items x query items: the rows of P for the whole tile in one product,
    /// then, for each context item (an image in t2i, a caption in i2t), all query items of the tile
    /// at once in the C kernel (raw norm along each query item, softmax of every query element over
    /// the contexts, cosine numerator sum a * P, squared norm of the weighted context a^T G a, and
    /// the aggregation over each query item's elements).
    func attendTile<T: ScoringScalar>(contexts: EmbeddingSet, contextRange: Range<Int>, contextData: UnsafePointer<T>,
                                      gram: UnsafePointer<T>, gramOffsets: [Int],
                                      queries: EmbeddingSet, queryRange: Range<Int>, queryData: UnsafePointer<T>,
                                      queryNorms: UnsafePointer<T>, p: UnsafeMutablePointer<T>, work: UnsafeMutablePointer<T>,
                                      out: UnsafeMutablePointer<T>, outputIndex: (Int, Int) -> Int, outputStride: Int) {
        let d = contexts.dim
        let c0 = contexts.offsets[contextRange.lowerBound], nC = contexts.offsets[contextRange.upperBound] - c0
        let q0 = queries.offsets[queryRange.lowerBound], nQ = queries.offsets[queryRange.upperBound] - q0
        T.gemm(transA: false, transB: true, m: nC, n: nQ, k: d, a: contextData + c0 * d, lda: d,
               b: queryData + q0 * d, ldb: d, c: p, ldc: nQ)
        let segments = (queryRange.lowerBound...queryRange.upperBound).map { Int64(queries.offsets[$0] - q0) }
        let norm = attention.rawFeatureNorm.kernelCode, agg = attention.aggFunc.kernelCode
        let lambda = T(attention.lambdaSoftmax), lambdaLSE = T(attention.lambdaLSE)
        segments.withUnsafeBufferPointer { sp in
            for c in contextRange {
                T.attend(p: p + (contexts.offsets[c] - c0) * nQ, ldp: nQ, rows: contexts.length(c), cols: nQ,
                         gram: gram + gramOffsets[c], segments: sp.baseAddress!, segmentCount: queryRange.count,
                         queryNorms: queryNorms + q0, norm: norm, lambda: lambda, agg: agg, lambdaLSE: lambdaLSE,
                         work: work, out: out + outputIndex(c, queryRange.lowerBound), outStride: outputStride)
            }
        }
    }
}
