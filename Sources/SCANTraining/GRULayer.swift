import SCANModel

enum GRULayer {
    /// The per-step elementwise work, over the cores or (when the caller already runs one
    /// direction per core) on the calling thread.
    @inline(__always)
    static func chunks(_ count: Int, parallel: Bool, minChunk: Int, _ body: (Range<Int>) -> Void) {
        if parallel { Parallel.forChunks(count, minChunk: minChunk, body) } else { body(0..<count) }
    }

    static func forward<T: TrainScalar>(x: UnsafePointer<T>, inputRows u: Int, inputRow: [Int], inputSize e: Int, hidden h: Int,
                                        schedule s: PackedSchedule, reverse: Bool,
                                        weights w: GRUWeights<T>, parallel: Bool = true) -> GRUCache<T> {
        let g = 3 * h
        let tokens = s.tokens
        var c = GRUCache<T>()
        c.reverse = reverse
        c.hidden = h
        c.inputRow = inputRow
        c.inputRows = u
        c.gi = [T](repeating: 0, count: u * g)
        c.hprev = [T](repeating: 0, count: tokens * h)
        c.r = [T](repeating: 0, count: tokens * h)
        c.z = c.r; c.n = c.r; c.hn = c.r
        c.out = [T](repeating: 0, count: tokens * h)
        let nAlive0 = s.alive.first ?? 0
        var gh = [T](repeating: 0, count: nAlive0 * g)

        c.gi.withUnsafeMutableBufferPointer { giB in
            let gi = giB.baseAddress!
            for t in 0..<u { (gi + t * g).update(from: w.bih, count: g) }
            // gi (U x G) += x (U x E) W_ih^T (E x G)
            PhaseProfiler.measure("gru fwd: input projections (gemm)") {
                T.gemm(transA: false, transB: true, m: u, n: g, k: e, alpha: 1, a: x, lda: e,
                       b: w.wih, ldb: e, beta: 1, c: gi, ldc: g)
            }
        }
        c.gi.withUnsafeBufferPointer { giB in
        c.hprev.withUnsafeMutableBufferPointer { hpB in
        c.r.withUnsafeMutableBufferPointer { rB in
        c.z.withUnsafeMutableBufferPointer { zB in
        c.n.withUnsafeMutableBufferPointer { nB in
        c.hn.withUnsafeMutableBufferPointer { hnB in
        c.out.withUnsafeMutableBufferPointer { outB in
        gh.withUnsafeMutableBufferPointer { ghB in
            let gi = giB.baseAddress!, hp = hpB.baseAddress!, out = outB.baseAddress!, ghP = ghB.baseAddress!
            let rP = rB.baseAddress!, zP = zB.baseAddress!, nP = nB.baseAddress!, hnP = hnB.baseAddress!
            // W_hh^T (H x G) for every step, packed once.
            let recurrent = PackedWeight(w.whh, ldb: h, transposed: true, k: h, n: g)
            for t in 0..<s.maxLength {
                let b = s.alive[t]
                let base = s.stepOffsets[t]
                for i in 0..<b { (ghP + i * g).update(from: w.bhh, count: g) }
                if t > 0 {
                    // gh (b x G) += hprev_t (b x H) W_hh^T (H x G)
                    PhaseProfiler.measure("gru fwd: recurrent step (gemm)") {
                        recurrent.multiply(m: b, a: hp + base * h, lda: h, accumulate: true, c: ghP, ldc: g)
                    }
                }
                let nextAlive = t + 1 < s.maxLength ? s.alive[t + 1] : 0
                let nextBase = s.stepOffsets[t + 1]
                PhaseProfiler.measure("gru fwd: gates") {
                    chunks(b, parallel: parallel, minChunk: max(1, 16384 / max(1, h))) { range in
                        for i in range {
                            let row = s.tokenRow(step: t, slot: i, reverse: reverse)
                            let tm = base + i
                            let xi = gi + inputRow[row] * g, hh = ghP + i * g, hprevRow = hp + tm * h
                            let rr = rP + tm * h, zz = zP + tm * h, nn = nP + tm * h, hnn = hnP + tm * h
                            let o = out + row * h
                            if T.self == Float.self {
                                forwardGatesFloat(xi, hh, hprevRow, rr, zz, nn, hnn, o, h)
                                if i < nextAlive { (hp + (nextBase + i) * h).update(from: o, count: h) }
                                continue
                            }
                            for k in 0..<h {
                                let rv = Buffers.sigmoid(xi[k] + hh[k])
                                let zv = Buffers.sigmoid(xi[h + k] + hh[h + k])
                                let hnv = hh[2 * h + k]
                                let nv = T.tanh(xi[2 * h + k] + rv * hnv)
                                rr[k] = rv; zz[k] = zv; nn[k] = nv; hnn[k] = hnv
                                o[k] = (1 - zv) * nv + zv * hprevRow[k]
                            }
                            if i < nextAlive { (hp + (nextBase + i) * h).update(from: o, count: h) }
                        }
                    }
                }
            }
        }}}}}}}}
        return c
    }

    /// The forward gates of one caption's step in Float, eight lanes at a time (FastMath); the
    /// generic loop above is the reference (it runs for Double).
    static func forwardGatesFloat<T>(_ xiT: UnsafePointer<T>, _ hhT: UnsafePointer<T>, _ hpT: UnsafePointer<T>,
                                     _ rT: UnsafeMutablePointer<T>, _ zT: UnsafeMutablePointer<T>, _ nT: UnsafeMutablePointer<T>,
                                     _ hnT: UnsafeMutablePointer<T>, _ oT: UnsafeMutablePointer<T>, _ h: Int) {
        typealias V = SIMD8<Float>
        func f(_ p: UnsafePointer<T>) -> UnsafeRawPointer { UnsafeRawPointer(p) }
        func m(_ p: UnsafeMutablePointer<T>) -> UnsafeMutableRawPointer { UnsafeMutableRawPointer(p) }
        let xi = f(xiT), hh = f(hhT), hp = f(hpT), r = m(rT), z = m(zT), n = m(nT), hn = m(hnT), o = m(oT)
        let sz = MemoryLayout<Float>.stride
        var k = 0
        while k + 8 <= h {
            let rv = FastMath.sigmoid(xi.loadUnaligned(fromByteOffset: k * sz, as: V.self) + hh.loadUnaligned(fromByteOffset: k * sz, as: V.self))
            let zv = FastMath.sigmoid(xi.loadUnaligned(fromByteOffset: (h + k) * sz, as: V.self)
                                      + hh.loadUnaligned(fromByteOffset: (h + k) * sz, as: V.self))
            let hnv = hh.loadUnaligned(fromByteOffset: (2 * h + k) * sz, as: V.self)
            let nv = FastMath.tanh(xi.loadUnaligned(fromByteOffset: (2 * h + k) * sz, as: V.self) + rv * hnv)
            let hpv = hp.loadUnaligned(fromByteOffset: k * sz, as: V.self)
            r.storeBytes(of: rv, toByteOffset: k * sz, as: V.self)
            z.storeBytes(of: zv, toByteOffset: k * sz, as: V.self)
            n.storeBytes(of: nv, toByteOffset: k * sz, as: V.self)
            hn.storeBytes(of: hnv, toByteOffset: k * sz, as: V.self)
            o.storeBytes(of: (1 - zv) * nv + zv * hpv, toByteOffset: k * sz, as: V.self)
            k += 8
        }
        // The tail (h not a multiple of 8) one lane at a time through the same functions.
        while k < h {
            func lane(_ p: UnsafeRawPointer, _ at: Int) -> V { V(repeating: p.load(fromByteOffset: at * sz, as: Float.self)) }
            let rv = FastMath.sigmoid(lane(xi, k) + lane(hh, k))[0]
            let zv = FastMath.sigmoid(lane(xi, h + k) + lane(hh, h + k))[0]
            let hnv = hh.load(fromByteOffset: (2 * h + k) * sz, as: Float.self)
            let nv = FastMath.tanh(lane(xi, 2 * h + k) + V(repeating: rv * hnv))[0]
            let hpv = hp.load(fromByteOffset: k * sz, as: Float.self)
            r.storeBytes(of: rv, toByteOffset: k * sz, as: Float.self)
            z.storeBytes(of: zv, toByteOffset: k * sz, as: Float.self)
            n.storeBytes(of: nv, toByteOffset: k * sz, as: Float.self)
            hn.storeBytes(of: hnv, toByteOffset: k * sz, as: Float.self)
            o.storeBytes(of: (1 - zv) * nv + zv * hpv, toByteOffset: k * sz, as: Float.self)
            k += 1
        }
    }

    /// Given dOut (T x H, packed): accumulates into the weight gradients and dx (U x E, per input row).
    static func backward<T: TrainScalar>(_ c: GRUCache<T>, x: UnsafePointer<T>, inputSize e: Int,
                                         schedule s: PackedSchedule, weights w: GRUWeights<T>,
                                         dOut: UnsafePointer<T>, grads dw: GRUGradients<T>,
                                         dx: UnsafeMutablePointer<T>, parallel: Bool = true) {
        let h = c.hidden, g = 3 * h
        let tokens = s.tokens
        let reverse = c.reverse
        // (T x G) packed: d(x W_ih^T + b_ih); (T x G) time-major: d(h W_hh^T + b_hh).
        var dgi = [T](repeating: 0, count: tokens * g)
        let u = c.inputRows
        var dgh = [T](repeating: 0, count: tokens * g)
        // (n x H): dL/dh flowing into step t from step t + 1, per longest-first slot.
        var carry = [T](repeating: 0, count: (s.alive.first ?? 0) * h)
        c.r.withUnsafeBufferPointer { rB in
        c.z.withUnsafeBufferPointer { zB in
        c.n.withUnsafeBufferPointer { nB in
        c.hn.withUnsafeBufferPointer { hnB in
        c.hprev.withUnsafeBufferPointer { hpB in
        dgi.withUnsafeMutableBufferPointer { dgiB in
        dgh.withUnsafeMutableBufferPointer { dghB in
        carry.withUnsafeMutableBufferPointer { carryB in
            let rP = rB.baseAddress!, zP = zB.baseAddress!, nP = nB.baseAddress!, hnP = hnB.baseAddress!
            let hp = hpB.baseAddress!, dgiP = dgiB.baseAddress!, dghP = dghB.baseAddress!, cr = carryB.baseAddress!
            // W_hh (G x H) for every step, packed once.
            let recurrent = PackedWeight(w.whh, ldb: h, transposed: false, k: g, n: h)
            for t in (0..<s.maxLength).reversed() {
                let b = s.alive[t]
                let base = s.stepOffsets[t]
                PhaseProfiler.measure("gru bwd: gates") {
                    chunks(b, parallel: parallel, minChunk: max(1, 16384 / max(1, h))) { range in
                        for i in range {
                            let row = s.tokenRow(step: t, slot: i, reverse: reverse)
                            let tm = base + i
                            let rr = rP + tm * h, zz = zP + tm * h, nn = nP + tm * h, hnn = hnP + tm * h
                            let hpr = hp + tm * h, dO = dOut + row * h, dc = cr + i * h
                            let dI = dgiP + row * g, dH = dghP + tm * g
                            for k in 0..<h {
                                let dh = dc[k] + dO[k]
                                let rv = rr[k], zv = zz[k], nv = nn[k]
                                let dn = dh * (1 - zv)
                                let dz = dh * (hpr[k] - nv)
                                let dan = dn * (1 - nv * nv)
                                let dar = dan * hnn[k] * rv * (1 - rv)
                                let daz = dz * zv * (1 - zv)
                                dI[k] = dar; dI[h + k] = daz; dI[2 * h + k] = dan
                                dH[k] = dar; dH[h + k] = daz; dH[2 * h + k] = dan * rv
                                dc[k] = dh * zv
                            }
                        }
                    }
                }
                if t > 0 {
                    // carry (b x H) += dgh_t (b x G) W_hh (G x H)
                    PhaseProfiler.measure("gru bwd: recurrent step (gemm)") {
                        recurrent.multiply(m: b, a: dghP + base * g, lda: g, accumulate: true, c: cr, ldc: h)
                    }
                }
            }
            // dW_hh (G x H) += dgh^T (G x T) hprev (T x H);
            // then per distinct input row, dgiU (U x G) = sum of its tokens' dgi: dW_ih (G x E) += dgiU^T x; dx (U x E) += dgiU W_ih.
            PhaseProfiler.measure("gru bwd: weight gradients and dx (gemm)") {
                // (The rows of step 0 have hprev = 0 and are left out.)
                let first = s.stepOffsets.count > 1 ? s.stepOffsets[1] : 0
                T.gemm(transA: true, transB: false, m: g, n: h, k: tokens - first, alpha: 1, a: dghP + first * g, lda: g,
                       b: hp + first * h, ldb: h, beta: 1, c: dw.whh, ldc: h)
                Buffers.addColumnSums(dghP, rows: tokens, dim: g, ld: g, into: dw.bhh)
                var dgiU = [T](repeating: 0, count: u * g)
                dgiU.withUnsafeMutableBufferPointer { dB in
                    let dU = dB.baseAddress!
                    for t in 0..<tokens {
                        let src = dgiP + t * g, dst = dU + c.inputRow[t] * g
                        for k in 0..<g { dst[k] += src[k] }
                    }
                    T.gemm(transA: true, transB: false, m: g, n: e, k: u, alpha: 1, a: dU, lda: g,
                           b: x, ldb: e, beta: 1, c: dw.wih, ldc: e)
                    Buffers.addColumnSums(dU, rows: u, dim: g, ld: g, into: dw.bih)
                    T.gemm(transA: false, transB: false, m: u, n: e, k: g, alpha: 1, a: dU, lda: g,
                           b: w.wih, ldb: e, beta: 1, c: dx, ldc: e)
                }
            }
        }}}}}}}}
    }
}
