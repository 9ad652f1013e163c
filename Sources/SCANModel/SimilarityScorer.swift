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
            switch attention.direction {
            case .t2i:
                let (gram, gOff) = Self.grams(ip.baseAddress!, images)
                let wordNorms = Self.rowNorms(cp.baseAddress!, rows: captions.totalRows, dim: captions.dim)
                gram.withUnsafeBufferPointer { gp in
                    for ib in imageBlocks {
                        for cb in captionBlocks {
                            t2iBlock(images: images, captions: captions, ib: ib, cb: cb,
                                     img: ip.baseAddress!, cap: cp.baseAddress!, gram: gp.baseAddress!, gramOffsets: gOff,
                                     wordNorms: wordNorms, out: outBase, nCap: nCap, blasThreads: blasThreads)
                            done += ib.count * cb.count
                            progress?(done, total)
                        }
                    }
                }
            case .i2t:
                let (gram, gOff) = Self.grams(cp.baseAddress!, captions)
                let regionNorms = Self.rowNorms(ip.baseAddress!, rows: images.totalRows, dim: images.dim)
                gram.withUnsafeBufferPointer { gp in
                    for ib in imageBlocks {
                        for cb in captionBlocks {
                            i2tBlock(images: images, captions: captions, ib: ib, cb: cb,
                                     img: ip.baseAddress!, cap: cp.baseAddress!, gram: gp.baseAddress!, gramOffsets: gOff,
                                     regionNorms: regionNorms, out: outBase, nCap: nCap, blasThreads: blasThreads)
                            done += ib.count * cb.count
                            progress?(done, total)
                        }
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

    /// Words attend over regions: for each image of the block, all captions of the block at once.
    func t2iBlock<T: ScoringScalar>(images: EmbeddingSet, captions: EmbeddingSet, ib: Range<Int>, cb: Range<Int>,
                                    img: UnsafePointer<T>, cap: UnsafePointer<T>, gram: UnsafePointer<T>, gramOffsets: [Int],
                                    wordNorms: [T], out: UnsafeMutablePointer<T>, nCap: Int, blasThreads: Int) {
        let d = images.dim
        let r0 = images.offsets[ib.lowerBound], nR = images.offsets[ib.upperBound] - r0
        let w0 = captions.offsets[cb.lowerBound], nW = captions.offsets[cb.upperBound] - w0
        var p = [T](repeating: 0, count: nR * nW)
        p.withUnsafeMutableBufferPointer { pp in
            // P = R_block W_block^T: the one large product.
            T.gemm(transA: false, transB: true, m: nR, n: nW, k: d, a: img + r0 * d, lda: d, b: cap + w0 * d, ldb: d, c: pp.baseAddress!, ldc: nW)
        }
        let maxRegions = ib.map { images.length($0) }.max() ?? 0
        let norm = attention.rawFeatureNorm.kernelCode
        let lambda = T(attention.lambdaSoftmax)
        let lambdaLSE = T(attention.lambdaLSE)
        let agg = attention.aggFunc
        BLAS.setThreadCount(1)
        defer { BLAS.setThreadCount(blasThreads) }
        p.withUnsafeBufferPointer { pp in
        wordNorms.withUnsafeBufferPointer { wn in
            Parallel.forChunks(ib.count) { chunk in
                var a = [T](repeating: 0, count: maxRegions * nW)
                var m = [T](repeating: 0, count: maxRegions * nW)
                var num = [T](repeating: 0, count: nW)
                var q = [T](repeating: 0, count: nW)
                a.withUnsafeMutableBufferPointer { ab in
                m.withUnsafeMutableBufferPointer { mb in
                num.withUnsafeMutableBufferPointer { nb in
                q.withUnsafeMutableBufferPointer { qb in
                    let A = ab.baseAddress!, M = mb.baseAddress!, NUM = nb.baseAddress!, Q = qb.baseAddress!
                    for k in chunk {
                        let i = ib.lowerBound + k
                        let nr = images.length(i)
                        let pi = pp.baseAddress! + (images.offsets[i] - r0) * nW
                        A.update(from: pi, count: nr * nW)
                        // Raw norm along the words of each caption, for each region.
                        if norm != 5 {
                            for c in cb {
                                let off = captions.offsets[c] - w0
                                T.rawNorm(A + off, rows: nr, n: captions.length(c), ld: nW, norm: norm)
                            }
                        }
                        // Attention of each word over the regions.
                        T.columnSoftmax(A, rows: nr, cols: nW, ld: nW, lambda: lambda)
                        T.columnDot(A, lda: nW, pi, ldb: nW, rows: nr, cols: nW, into: NUM)
                        T.gemm(transA: false, transB: false, m: nr, n: nW, k: nr, a: gram + gramOffsets[i], lda: nr, b: A, ldb: nW, c: M, ldc: nW)
                        T.columnDot(A, lda: nW, M, ldb: nW, rows: nr, cols: nW, into: Q)
                        for w in 0..<nW {
                            let denom = max(wn[w0 + w] * max(Q[w], 0).squareRoot(), T(1e-8))
                            NUM[w] = NUM[w] / denom
                        }
                        for c in cb {
                            let off = captions.offsets[c] - w0
                            out[i * nCap + c] = CrossAttention.aggregate(UnsafePointer(NUM + off), count: captions.length(c), agg: agg, lambdaLSE: lambdaLSE)
                        }
                    }
                }}}}
            }
        }}
    }

    /// Regions attend over words: for each caption of the block, all images of the block at once.
    func i2tBlock<T: ScoringScalar>(images: EmbeddingSet, captions: EmbeddingSet, ib: Range<Int>, cb: Range<Int>,
                                    img: UnsafePointer<T>, cap: UnsafePointer<T>, gram: UnsafePointer<T>, gramOffsets: [Int],
                                    regionNorms: [T], out: UnsafeMutablePointer<T>, nCap: Int, blasThreads: Int) {
        let d = images.dim
        let r0 = images.offsets[ib.lowerBound], nR = images.offsets[ib.upperBound] - r0
        let w0 = captions.offsets[cb.lowerBound], nW = captions.offsets[cb.upperBound] - w0
        var pt = [T](repeating: 0, count: nW * nR)
        pt.withUnsafeMutableBufferPointer { pp in
            // P^T = W_block R_block^T, so that each caption's words are contiguous rows.
            T.gemm(transA: false, transB: true, m: nW, n: nR, k: d, a: cap + w0 * d, lda: d, b: img + r0 * d, ldb: d, c: pp.baseAddress!, ldc: nR)
        }
        let maxWords = cb.map { captions.length($0) }.max() ?? 0
        let norm = attention.rawFeatureNorm.kernelCode
        let lambda = T(attention.lambdaSoftmax)
        let lambdaLSE = T(attention.lambdaLSE)
        let agg = attention.aggFunc
        BLAS.setThreadCount(1)
        defer { BLAS.setThreadCount(blasThreads) }
        pt.withUnsafeBufferPointer { pp in
        regionNorms.withUnsafeBufferPointer { rn in
            Parallel.forChunks(cb.count) { chunk in
                var b = [T](repeating: 0, count: maxWords * nR)
                var m = [T](repeating: 0, count: maxWords * nR)
                var num = [T](repeating: 0, count: nR)
                var q = [T](repeating: 0, count: nR)
                b.withUnsafeMutableBufferPointer { bb in
                m.withUnsafeMutableBufferPointer { mb in
                num.withUnsafeMutableBufferPointer { nb in
                q.withUnsafeMutableBufferPointer { qb in
                    let B = bb.baseAddress!, M = mb.baseAddress!, NUM = nb.baseAddress!, Q = qb.baseAddress!
                    for k in chunk {
                        let c = cb.lowerBound + k
                        let nw = captions.length(c)
                        let pc = pp.baseAddress! + (captions.offsets[c] - w0) * nR
                        B.update(from: pc, count: nw * nR)
                        // Raw norm along the regions of each image, for each word.
                        if norm != 5 {
                            for i in ib {
                                let off = images.offsets[i] - r0
                                T.rawNorm(B + off, rows: nw, n: images.length(i), ld: nR, norm: norm)
                            }
                        }
                        // Attention of each region over the words.
                        T.columnSoftmax(B, rows: nw, cols: nR, ld: nR, lambda: lambda)
                        T.columnDot(B, lda: nR, pc, ldb: nR, rows: nw, cols: nR, into: NUM)
                        T.gemm(transA: false, transB: false, m: nw, n: nR, k: nw, a: gram + gramOffsets[c], lda: nw, b: B, ldb: nR, c: M, ldc: nR)
                        T.columnDot(B, lda: nR, M, ldb: nR, rows: nw, cols: nR, into: Q)
                        for r in 0..<nR {
                            let denom = max(rn[r0 + r] * max(Q[r], 0).squareRoot(), T(1e-8))
                            NUM[r] = NUM[r] / denom
                        }
                        for i in ib {
                            let off = images.offsets[i] - r0
                            out[i * nCap + c] = CrossAttention.aggregate(UnsafePointer(NUM + off), count: images.length(i), agg: agg, lambdaLSE: lambdaLSE)
                        }
                    }
                }}}}
            }
        }}
    }
}
