import SCANModel
import CSCANKernels

enum CrossAttentionLayer {
    static let cosineEps = 1e-8

    /// The scores of every pair of the batch: P in one gemm, then the fused per-pair kernel of the
    /// exact scorer (SimilarityScorer's C pass) per context item. The per-pair quantities the
    /// backward needs are recomputed by `materialize` for the pairs that receive a gradient only.
    static func forward<T: TrainScalar>(regions: UnsafePointer<T>, regionOffsets: [Int],
                                        words: UnsafePointer<T>, wordOffsets: [Int],
                                        dim d: Int, attention at: CrossAttention) -> AttentionCache<T> {
        var c = AttentionCache<T>()
        c.regionOffsets = regionOffsets
        c.wordOffsets = wordOffsets
        c.dim = d
        let nr = c.regionRows, nw = c.wordColumns, bi = c.imageCount, bc = c.captionCount
        let t2i = at.direction == .t2i
        let padding = scan_attend_padding()
        c.p = [T](repeating: 0, count: nr * nw + padding)
        c.scores = [T](repeating: 0, count: bi * bc)
        c.queryNorms = [T](repeating: 0, count: (t2i ? nw : nr) + padding)
        // Context items: images (t2i) or captions (i2t), as row ranges of their embeddings.
        let (contexts, contextOffsets) = t2i ? (regions, regionOffsets) : (words, wordOffsets)
        let (queries, queryOffsets) = t2i ? (words, wordOffsets) : (regions, regionOffsets)
        let items = contextOffsets.count - 1
        for k in 0..<items { let n = contextOffsets[k + 1] - contextOffsets[k]; c.gramOffsets.append(c.gramOffsets[k] + n * n) }
        c.grams = [T](repeating: 0, count: c.gramOffsets[items])
        let norm = at.rawFeatureNorm.kernelCode, agg = at.aggFunc.kernelCode
        let lambda = T(at.lambdaSoftmax), lse = T(at.lambdaLSE)

        c.p.withUnsafeMutableBufferPointer { pB in
        c.grams.withUnsafeMutableBufferPointer { gB in
        c.queryNorms.withUnsafeMutableBufferPointer { qnB in
        c.scores.withUnsafeMutableBufferPointer { scB in
            let P = pB.baseAddress!, G = gB.baseAddress!, QN = qnB.baseAddress!, SC = scB.baseAddress!
            // P (NR x NW) = R (NR x D) W^T (D x NW): the one large product.
            PhaseProfiler.measure("attention fwd: P = R W^T (gemm)") {
                ConcurrentBLAS.gemm(transA: false, transB: true, m: nr, n: nw, k: d, alpha: 1, a: regions, lda: d,
                       b: words, ldb: d, beta: 0, c: P, ldc: nw)
            }
            let nq = queryOffsets.last!
            VectorOps.rowNorms(queries, rows: nq, dim: d, into: QN)
            let gramOffsets = c.gramOffsets
            PhaseProfiler.measure("attention fwd: Gram matrices (gemm)") {
                ConcurrentBLAS.forChunks(items) { range in
                    for k in range {
                        let r0 = contextOffsets[k], n = contextOffsets[k + 1] - r0
                        T.gemm(transA: false, transB: true, m: n, n: n, k: d, alpha: 1, a: contexts + r0 * d, lda: d,
                               b: contexts + r0 * d, ldb: d, beta: 0, c: G + gramOffsets[k], ldc: n)
                    }
                }
            }
            PhaseProfiler.measure("attention fwd: per-pair pass (fused C kernel)") {
                // The kernel wants each context item's rows of P contiguous: P itself for t2i, P^T for i2t.
                var transposed: [T] = []
                if !t2i {
                    transposed = [T](repeating: 0, count: nr * nw + padding)
                    transposed.withUnsafeMutableBufferPointer { tB in
                        let PT = tB.baseAddress!
                        Parallel.forChunks(nw) { cols in
                            for w in cols { for r in 0..<nr { PT[w * nr + r] = P[r * nw + w] } }
                        }
                    }
                }
                let segments = queryOffsets.map { Int64($0) }
                let maxRows = (0..<items).map { contextOffsets[$0 + 1] - contextOffsets[$0] }.max() ?? 0
                let workCount = scan_attend_workspace(maxRows, nq)
                transposed.withUnsafeBufferPointer { tB in
                segments.withUnsafeBufferPointer { sp in
                    let rowsOfP = t2i ? UnsafePointer(P) : tB.baseAddress!
                    Parallel.forChunks(items) { range in
                        let work = UnsafeMutablePointer<T>.allocate(capacity: workCount)
                        defer { work.deallocate() }
                        for k in range {
                            let r0 = contextOffsets[k], n = contextOffsets[k + 1] - r0
                            T.attend(p: rowsOfP + r0 * nq, ldp: nq, rows: n, cols: nq, gram: G + gramOffsets[k],
                                     segments: sp.baseAddress!, segmentCount: queryOffsets.count - 1, queryNorms: QN,
                                     norm: norm, lambda: lambda, agg: agg, lambdaLSE: lse, work: work,
                                     out: SC + (t2i ? k * bc : k), outStride: t2i ? 1 : bc)
                        }
                    }
                }}
            }
        }}}}
        return c
    }

    /// Fills a, m, sims and weightedNorms for `pairs` (indices i * BC + j), the intermediate values
    /// of the forward that the backward of those pairs reads.
    static func materialize<T: TrainScalar>(_ c: inout AttentionCache<T>, pairs: [Int], attention at: CrossAttention) {
        let nr = c.regionRows, nw = c.wordColumns, bi = c.imageCount, bc = c.captionCount
        let t2i = at.direction == .t2i
        let regionOffsets = c.regionOffsets, wordOffsets = c.wordOffsets
        c.a = [T](repeating: 0, count: nr * nw)
        c.m = c.a
        c.sims = [T](repeating: 0, count: t2i ? bi * nw : nr * bc)
        c.weightedNorms = c.sims
        let lambda = T(at.lambdaSoftmax)
        let norm = at.rawFeatureNorm
        let maxPair = maxPairSize(regionOffsets, wordOffsets)
        let gramOffsets = c.gramOffsets

        c.p.withUnsafeBufferPointer { pB in
        c.grams.withUnsafeBufferPointer { gB in
        c.queryNorms.withUnsafeBufferPointer { qnB in
        c.a.withUnsafeMutableBufferPointer { aB in
        c.m.withUnsafeMutableBufferPointer { mB in
        c.sims.withUnsafeMutableBufferPointer { sB in
        c.weightedNorms.withUnsafeMutableBufferPointer { wnB in
            let P = pB.baseAddress!, G = gB.baseAddress!, QN = qnB.baseAddress!
            let A = aB.baseAddress!, M = mB.baseAddress!, S = sB.baseAddress!, WN = wnB.baseAddress!
            // Raw norm along the queries, then the softmax over the contexts.
            Parallel.forChunks(pairs.count) { range in
                // Y: lambda * norm(P) of a pair, queries x contexts (so that each softmax runs over
                // contiguous values); then one row of the raw norm.
                var y = [T](repeating: 0, count: 2 * maxPair)
                y.withUnsafeMutableBufferPointer { yB in
                    let Y = yB.baseAddress!, row = Y + maxPair
                    for idx in range {
                        let pair = pairs[idx]
                        let v = PairView(i: pair / bc, j: pair % bc, direction: at.direction,
                                         regionOffsets: regionOffsets, wordOffsets: wordOffsets)
                        let nq = v.queries, ncx = v.contexts
                        for cx in 0..<ncx {
                            RawNormLayer.forward(P + v.base + cx * v.cs, stride: v.qs, count: nq, norm: norm, y: row)
                            for q in 0..<nq { Y[q * ncx + cx] = lambda * row[q] }
                        }
                        for q in 0..<nq {
                            let col = Y + q * ncx
                            var mx = col[0]
                            for cx in 1..<max(1, ncx) where col[cx] > mx { mx = col[cx] }
                            FastMath.expInPlace(col, count: ncx, minus: mx)
                            var total: T = 0
                            for cx in 0..<ncx { total += col[cx] }
                            let inv = 1 / total
                            for cx in 0..<ncx { A[v.base + cx * v.cs + q * v.qs] = col[cx] * inv }
                        }
                    }
                }
            }
            // M = G a per pair: t2i M (R_i x W_j) = G_Ri A; i2t M (R_i x W_j) = A G_Wj (G symmetric).
            ConcurrentBLAS.forChunks(pairs.count) { range in
                for idx in range {
                    let i = pairs[idx] / bc, j = pairs[idx] % bc
                    let r0 = regionOffsets[i], rn = regionOffsets[i + 1] - r0
                    let w0 = wordOffsets[j], wn = wordOffsets[j + 1] - w0
                    let block = r0 * nw + w0
                    if t2i {
                        T.gemm(transA: false, transB: false, m: rn, n: wn, k: rn, alpha: 1, a: G + gramOffsets[i], lda: rn,
                               b: A + block, ldb: nw, beta: 0, c: M + block, ldc: nw)
                    } else {
                        T.gemm(transA: false, transB: false, m: rn, n: wn, k: wn, alpha: 1, a: A + block, lda: nw,
                               b: G + gramOffsets[j], ldb: wn, beta: 0, c: M + block, ldc: nw)
                    }
                }
            }
            // Cosine per query element.
            Parallel.forChunks(pairs.count) { range in
                for idx in range {
                    let pair = pairs[idx]
                    let v = PairView(i: pair / bc, j: pair % bc, direction: at.direction,
                                     regionOffsets: regionOffsets, wordOffsets: wordOffsets)
                    for q in 0..<v.queries {
                        var num: T = 0, wn2: T = 0
                        var e = v.base + q * v.qs
                        for _ in 0..<v.contexts {
                            num += A[e] * P[e]
                            wn2 += A[e] * M[e]
                            e += v.cs
                        }
                        let wn = max(wn2, 0).squareRoot()
                        let den = max(QN[v.normBase + q] * wn, T(cosineEps))
                        S[v.qBase + q * v.qStride] = num / den
                        WN[v.qBase + q * v.qStride] = wn
                    }
                }
            }
        }}}}}}}
    }

    static func maxPairSize(_ ro: [Int], _ wo: [Int]) -> Int {
        var mr = 0, mw = 0
        for i in 0..<(ro.count - 1) { mr = max(mr, ro[i + 1] - ro[i]) }
        for j in 0..<(wo.count - 1) { mw = max(mw, wo[j + 1] - wo[j]) }
        return max(1, mr * mw)
    }

    /// d score / d s for one pair's per-query similarities (scaled by `g` = dL/dscore).
    static func aggregateBackward<T: TrainScalar>(_ s: UnsafePointer<T>, count n: Int, agg: AggFunc, lambdaLSE: T,
                                                  g: T, ds: UnsafeMutablePointer<T>) {
        switch agg {
        case .logSumExp:
            // score = log(sum exp(lambda s)) / lambda: d/ds_q = exp(lambda s_q) / sum exp(lambda s).
            var acc: T = 0
            for q in 0..<n { ds[q] = T.exp(lambdaLSE * s[q]); acc += ds[q] }
            let f = g / acc
            for q in 0..<n { ds[q] *= f }
        case .mean:
            let f = g / T(n)
            for q in 0..<n { ds[q] = f }
        case .sum:
            for q in 0..<n { ds[q] = g }
        case .max:
            var best = 0
            for q in 1..<max(1, n) where s[q] > s[best] { best = q }
            for q in 0..<n { ds[q] = 0 }
            ds[best] = g
        }
    }

    /// Given dScores (BI x BC): accumulates dRegions (NR x D) and dWords (NW x D).
    ///
    /// Pairs with a zero score gradient (most of them with max_violation) are skipped; when few
    /// pairs remain, the products with dP are done per pair instead of over the whole matrix
    /// (`denseThreshold` is the fraction of pairs above which the large gemms are used).
    /// The phases: recompute the weights of the active pairs, per-pair gradients (dP, A * dwn2 and the
    /// query-norm gradients), the products with dP, the Gram terms, the query norms.
    static func backward<T: TrainScalar>(_ forward: AttentionCache<T>, regions: UnsafePointer<T>, words: UnsafePointer<T>,
                                         attention at: CrossAttention, dScores: [T],
                                         dRegions: UnsafeMutablePointer<T>, dWords: UnsafeMutablePointer<T>,
                                         denseThreshold: Double = 0.25) {
        let nr = forward.regionRows, nw = forward.wordColumns, bi = forward.imageCount, bc = forward.captionCount
        let active = (0..<(bi * bc)).filter { dScores[$0] != 0 }
        var c = forward
        PhaseProfiler.measure("attention bwd: weights of the pairs with a gradient (recomputed)") {
            materialize(&c, pairs: active, attention: at)
        }
        var byImage = [[Int]](repeating: [], count: bi), byCaption = [[Int]](repeating: [], count: bc)
        for pair in active {
            byImage[pair / bc].append(pair % bc)
            byCaption[pair % bc].append(pair / bc)
        }
        // dP and A * dwn2 (per query column), same layout as P.
        var dP = [T](repeating: 0, count: nr * nw)
        var ad = [T](repeating: 0, count: nr * nw)
        // dL/d|query| per query element of each pair (layout of `sims`).
        var dqn = [T](repeating: 0, count: c.sims.count)
        let dense = Double(active.count) >= denseThreshold * Double(bi * bc)

        c.p.withUnsafeBufferPointer { pB in
        c.a.withUnsafeBufferPointer { aB in
        c.m.withUnsafeBufferPointer { mB in
        c.queryNorms.withUnsafeBufferPointer { qnB in
        c.sims.withUnsafeBufferPointer { sB in
        c.weightedNorms.withUnsafeBufferPointer { wnB in
        dP.withUnsafeMutableBufferPointer { dpB in
        ad.withUnsafeMutableBufferPointer { adB in
        dqn.withUnsafeMutableBufferPointer { dqnB in
            let b = BackwardBuffers(cache: c, attention: at, active: active, byImage: byImage, byCaption: byCaption, dense: dense,
                                    regions: regions, words: words, dRegions: dRegions, dWords: dWords,
                                    P: pB.baseAddress!, A: aB.baseAddress!, M: mB.baseAddress!, QN: qnB.baseAddress!,
                                    S: sB.baseAddress!, WN: wnB.baseAddress!,
                                    DP: dpB.baseAddress!, AD: adB.baseAddress!, DQN: dqnB.baseAddress!)
            PhaseProfiler.measure("attention bwd: per-pair gradients") { pairGradients(b, dScores: dScores) }
            PhaseProfiler.measure("attention bwd: dP W, dP^T R (gemm)") { productGradients(b) }
            PhaseProfiler.measure("attention bwd: Gram terms (gemm)") { gramGradients(b) }
            queryNormGradients(b)
        }}}}}}}}}
    }

    /// The pointers and sizes the backward phases share (the buffers live in `backward`).
    struct BackwardBuffers<T: TrainScalar> {
        let cache: AttentionCache<T>
        let attention: CrossAttention
        let active: [Int]
        let byImage: [[Int]], byCaption: [[Int]]
        let dense: Bool
        let regions: UnsafePointer<T>, words: UnsafePointer<T>
        let dRegions: UnsafeMutablePointer<T>, dWords: UnsafeMutablePointer<T>
        /// Forward: P, the attention weights A, the weighted contexts' Gram forms M, query norms, sims, weighted norms.
        let P: UnsafePointer<T>, A: UnsafePointer<T>, M: UnsafePointer<T>, QN: UnsafePointer<T>, S: UnsafePointer<T>, WN: UnsafePointer<T>
        /// Gradients: dP, A * dwn2, dL/d|query|.
        let DP: UnsafeMutablePointer<T>, AD: UnsafeMutablePointer<T>, DQN: UnsafeMutablePointer<T>
    }

    /// Per active pair: the cosine and aggregation gradients, back through the softmax over the
    /// contexts and the raw norm into dP; A * dwn2 for the Gram terms; dL/d|query|.
    static func pairGradients<T: TrainScalar>(_ b: BackwardBuffers<T>, dScores: [T]) {
        let at = b.attention, c = b.cache, active = b.active
        let bc = c.captionCount, ro = c.regionOffsets, wo = c.wordOffsets
        let lambda = T(at.lambdaSoftmax), lse = T(at.lambdaLSE), norm = at.rawFeatureNorm
        let maxPair = maxPairSize(ro, wo)
        let P = b.P, A = b.A, M = b.M, QN = b.QN, S = b.S, WN = b.WN, DP = b.DP, AD = b.AD, DQN = b.DQN
        Parallel.forChunks(active.count) { range in
            // Y, DY (contexts x queries); L, sq, ds (queries).
            var scratch = [T](repeating: 0, count: 5 * maxPair)
            scratch.withUnsafeMutableBufferPointer { scB in
                let Y = scB.baseAddress!, DY = Y + maxPair, L = DY + maxPair
                let sq = L + maxPair, ds = sq + maxPair
                for idx in range {
                    let pair = active[idx]
                    let v = PairView(i: pair / bc, j: pair % bc, direction: at.direction, regionOffsets: ro, wordOffsets: wo)
                    let nq = v.queries, ncx = v.contexts
                    for q in 0..<nq { sq[q] = S[v.qBase + q * v.qStride] }
                    aggregateBackward(UnsafePointer(sq), count: nq, agg: at.aggFunc, lambdaLSE: lse, g: dScores[pair], ds: ds)
                    for q in 0..<nq {
                        let qi = v.qBase + q * v.qStride
                        let s = sq[q], wn = WN[qi], qn = QN[v.normBase + q]
                        let prod = qn * wn
                        let den = max(prod, T(cosineEps))
                        let dnum = ds[q] / den
                        // s = num / max(prod, eps): the clamp passes the gradient where prod >= eps.
                        let dprod = prod >= T(cosineEps) ? -ds[q] * s / den : 0
                        DQN[qi] = dprod * wn
                        let dwn2 = wn > 0 ? dprod * qn / (2 * wn) : 0
                        // dA = dnum P + 2 dwn2 M; then the softmax over the contexts.
                        var sumADA: T = 0
                        var e = v.base + q * v.qs
                        for cx in 0..<ncx {
                            let av = A[e]
                            let da = dnum * P[e] + 2 * dwn2 * M[e]
                            DY[cx * nq + q] = da
                            sumADA += av * da
                            DP[e] = dnum * av
                            AD[e] = av * dwn2
                            e += v.cs
                        }
                        e = v.base + q * v.qs
                        for cx in 0..<ncx {
                            DY[cx * nq + q] = lambda * A[e] * (DY[cx * nq + q] - sumADA)
                            e += v.cs
                        }
                    }
                    // Back through the raw norm, one context row at a time.
                    for cx in 0..<ncx {
                        let x = P + v.base + cx * v.cs
                        RawNormLayer.forward(x, stride: v.qs, count: nq, norm: norm, y: Y)
                        RawNormLayer.backward(x, stride: v.qs, count: nq, norm: norm, y: Y, dy: DY + cx * nq,
                                              work: L, dx: DP + v.base + cx * v.cs)
                    }
                }
            }
        }
    }

    /// dR (NR x D) += dP W and dW (NW x D) += dP^T R: two large products when many pairs are active,
    /// else per pair, grouped by image for dR and by caption for dW (no two chunks write the same rows).
    static func productGradients<T: TrainScalar>(_ b: BackwardBuffers<T>) {
        let c = b.cache, d = c.dim, nr = c.regionRows, nw = c.wordColumns, bi = c.imageCount, bc = c.captionCount
        let ro = c.regionOffsets, wo = c.wordOffsets, byImage = b.byImage, byCaption = b.byCaption, dense = b.dense
        let DP = b.DP, words = b.words, regions = b.regions, dRegions = b.dRegions, dWords = b.dWords
        if dense {
            // dR (NR x D) += dP (NR x NW) W (NW x D); dW (NW x D) += dP^T R.
            ConcurrentBLAS.gemm(transA: false, transB: false, m: nr, n: d, k: nw, alpha: 1, a: DP, lda: nw,
                   b: words, ldb: d, beta: 1, c: dRegions, ldc: d)
            ConcurrentBLAS.gemm(transA: true, transB: false, m: nw, n: d, k: nr, alpha: 1, a: DP, lda: nw,
                   b: regions, ldb: d, beta: 1, c: dWords, ldc: d)
        } else {
            // Per pair, grouped by image for dR and by caption for dW (no two chunks write the same rows).
            ConcurrentBLAS.forChunks(bi) { images in
                for i in images {
                    let r0 = ro[i], rn = ro[i + 1] - r0
                    for j in byImage[i] {
                        let w0 = wo[j], wn = wo[j + 1] - w0
                        T.gemm(transA: false, transB: false, m: rn, n: d, k: wn, alpha: 1, a: DP + r0 * nw + w0, lda: nw,
                               b: words + w0 * d, ldb: d, beta: 1, c: dRegions + r0 * d, ldc: d)
                    }
                }
            }
            ConcurrentBLAS.forChunks(bc) { caps in
                for j in caps {
                    let w0 = wo[j], wn = wo[j + 1] - w0
                    for i in byCaption[j] {
                        let r0 = ro[i], rn = ro[i + 1] - r0
                        T.gemm(transA: true, transB: false, m: wn, n: d, k: rn, alpha: 1, a: DP + r0 * nw + w0, lda: nw,
                               b: regions + r0 * d, ldb: d, beta: 1, c: dWords + w0 * d, ldc: d)
                    }
                }
            }
        }
    }

    /// The Gram terms: dG = sum_q dwn2_q a_q a_q^T per context item; dX += (dG + dG^T) X = 2 dG X.
    static func gramGradients<T: TrainScalar>(_ b: BackwardBuffers<T>) {
        let c = b.cache, d = c.dim, nw = c.wordColumns, bi = c.imageCount, bc = c.captionCount
        let ro = c.regionOffsets, wo = c.wordOffsets, byImage = b.byImage, byCaption = b.byCaption, dense = b.dense
        let t2i = b.attention.direction == .t2i
        let A = b.A, AD = b.AD, regions = b.regions, words = b.words, dRegions = b.dRegions, dWords = b.dWords
        // Context items with their partners: images and captions (t2i), or the reverse. A pair's
        // block holds the context item's rows (t2i) or columns (i2t) of A and AD.
        let (items, partners, contextOffsets, partnerOffsets, X, dX) = t2i
            ? (bi, byImage, ro, wo, regions, dRegions) : (bc, byCaption, wo, ro, words, dWords)
        ConcurrentBLAS.forChunks(items) { range in
            for k in range where !partners[k].isEmpty {
                let c0 = contextOffsets[k], n = contextOffsets[k + 1] - c0
                var g = [T](repeating: 0, count: n * n)
                g.withUnsafeMutableBufferPointer { gB in
                    let G = gB.baseAddress!
                    // G (+)= the block's a a^T weighted by dwn2, over `count` partner rows or columns.
                    func accumulate(partnerStart: Int, count: Int, beta: T) {
                        let offset = t2i ? c0 * nw + partnerStart : partnerStart * nw + c0
                        T.gemm(transA: !t2i, transB: t2i, m: n, n: n, k: count, alpha: 1, a: A + offset, lda: nw,
                               b: AD + offset, ldb: nw, beta: beta, c: G, ldc: n)
                    }
                    if dense {
                        accumulate(partnerStart: 0, count: partnerOffsets.last!, beta: 0)
                    } else {
                        for q in partners[k] {
                            accumulate(partnerStart: partnerOffsets[q], count: partnerOffsets[q + 1] - partnerOffsets[q], beta: 1)
                        }
                    }
                    T.gemm(transA: false, transB: false, m: n, n: d, k: n, alpha: 2, a: G, lda: n,
                           b: X + c0 * d, ldb: d, beta: 1, c: dX + c0 * d, ldc: d)
                }
            }
        }
    }

    /// The query norms: dX_q += (sum over pairs of dL/d|X_q|) X_q / |X_q|.
    static func queryNormGradients<T: TrainScalar>(_ b: BackwardBuffers<T>) {
        let c = b.cache, d = c.dim, nr = c.regionRows, nw = c.wordColumns, bi = c.imageCount, bc = c.captionCount
        let t2i = b.attention.direction == .t2i
        let QN = b.QN, DQN = b.DQN, regions = b.regions, words = b.words, dRegions = b.dRegions, dWords = b.dWords
        // Query norms: dX_q += (sum over pairs of dL/d|X_q|) X_q / |X_q|.
        let (queries, dQueries, nq) = t2i ? (words, dWords, nw) : (regions, dRegions, nr)
        for q in 0..<nq {
            var total: T = 0
            if t2i {
                for i in 0..<bi { total += DQN[i * nw + q] }
            } else {
                for j in 0..<bc { total += DQN[q * bc + j] }
            }
            let qn = QN[q]
            if total == 0 || qn == 0 { continue }
            let f = total / qn
            for k in 0..<d { dQueries[q * d + k] += f * queries[q * d + k] }
        }
    }
}
