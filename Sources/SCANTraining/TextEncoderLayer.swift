import SCANModel

/// The text encoder for training: embedding lookup, a (bi-)GRU over packed sequences, the mean of
/// the two directions with bi_gru, then l2norm per word unless no_txtnorm.
///
/// Shapes: T tokens of the batch (packed, caption after caption), E word_dim, H = D embed, V vocab.
enum TextEncoderLayer {
    static let embedName = "txt_enc.embed.weight"

    static func forward<T: TrainScalar>(captions: [[Int]], config: ModelConfig, parameters p: ParameterPointers<T>) -> TextEncoderCache<T> {
        let e = config.wordDim, h = config.embedSize
        var c = TextEncoderCache<T>(schedule: PackedSchedule(lengths: captions.map(\.count)), tokens: TokenIndex(captions: captions))
        c.normalize = !config.noTxtnorm
        c.x = EmbeddingLayer.forward(table: p(embedName), wordDim: e, ids: c.tokens.ids)
        let schedule = c.schedule
        let u = c.tokens.ids.count, inputRow = c.tokens.row
        c.x.withUnsafeBufferPointer { xb in
            let x = xb.baseAddress!
            if config.biGRU {
                // The two directions are independent: one per core.
                var fw = GRUCache<T>(), bw = GRUCache<T>()
                PhaseProfiler.measure("gru fwd: both directions side by side") {
                    ConcurrentBLAS.pair({
                        fw = GRULayer.forward(x: x, inputRows: u, inputRow: inputRow, inputSize: e, hidden: h, schedule: schedule, reverse: false,
                                              weights: GRUNames(suffix: "").weights(p), parallel: false)
                    }, {
                        bw = GRULayer.forward(x: x, inputRows: u, inputRow: inputRow, inputSize: e, hidden: h, schedule: schedule, reverse: true,
                                              weights: GRUNames(suffix: "_reverse").weights(p), parallel: false)
                    })
                }
                c.forward = fw
                c.backward = bw
            } else {
                c.forward = GRULayer.forward(x: x, inputRows: u, inputRow: inputRow, inputSize: e, hidden: h, schedule: schedule,
                                             reverse: false, weights: GRUNames(suffix: "").weights(p))
            }
        }
        if let b = c.backward {
            c.pre = c.forward.out
            for i in 0..<c.pre.count { c.pre[i] = (c.pre[i] + b.out[i]) / 2 }
        } else {
            c.pre = c.forward.out
        }
        let tokens = c.schedule.tokens
        if c.normalize {
            (c.out, c.norms) = RowL2Norm.forward(c.pre, rows: tokens, dim: h)
        } else {
            c.out = c.pre
        }
        return c
    }

    /// Given dOut (T x H): accumulates the gradients of the embedding table and of the GRU(s).
    static func backward<T: TrainScalar>(_ c: TextEncoderCache<T>, config: ModelConfig, dOut: [T],
                                         parameters p: ParameterPointers<T>, gradients d: GradientPointers<T>) {
        let e = config.wordDim, h = config.embedSize
        let tokens = c.schedule.tokens
        var dPre: [T]
        if c.normalize {
            dPre = dOut.withUnsafeBufferPointer { RowL2Norm.backward(c.pre, norms: c.norms, dy: $0.baseAddress!, rows: tokens, dim: h) }
        } else {
            dPre = dOut
        }
        // The mean of the two directions hands each half the gradient.
        if c.backward != nil { for i in 0..<dPre.count { dPre[i] *= T(0.5) } }
        let u = c.tokens.ids.count
        var dx = [T](repeating: 0, count: u * e)
        let schedule = c.schedule
        c.x.withUnsafeBufferPointer { xb in
            dPre.withUnsafeBufferPointer { dp in
                dx.withUnsafeMutableBufferPointer { dxb in
                    let x = xb.baseAddress!, dOut = dp.baseAddress!
                    let fw = GRUNames(suffix: "")
                    if let b = c.backward {
                        // One direction per core; the reverse direction's dx goes to its own buffer.
                        let bw = GRUNames(suffix: "_reverse")
                        var dxReverse = [T](repeating: 0, count: u * e)
                        dxReverse.withUnsafeMutableBufferPointer { dxr in
                            let dxR = dxr.baseAddress!
                            PhaseProfiler.measure("gru bwd: both directions side by side") {
                                ConcurrentBLAS.pair({
                                    GRULayer.backward(c.forward, x: x, inputSize: e, schedule: schedule, weights: fw.weights(p),
                                                      dOut: dOut, grads: fw.gradients(d), dx: dxb.baseAddress!, parallel: false)
                                }, {
                                    GRULayer.backward(b, x: x, inputSize: e, schedule: schedule, weights: bw.weights(p),
                                                      dOut: dOut, grads: bw.gradients(d), dx: dxR, parallel: false)
                                })
                            }
                            for k in 0..<(u * e) { dxb[k] += dxR[k] }
                        }
                    } else {
                        GRULayer.backward(c.forward, x: x, inputSize: e, schedule: schedule, weights: fw.weights(p),
                                          dOut: dOut, grads: fw.gradients(d), dx: dxb.baseAddress!)
                    }
                }
            }
        }
        dx.withUnsafeBufferPointer { dxb in
            EmbeddingLayer.backward(dx: dxb.baseAddress!, wordDim: e, ids: c.tokens.ids, dTable: d(embedName))
        }
    }
}
