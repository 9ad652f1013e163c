@testable import SCANTraining
import SCANModel
import XCTest

/// Finite-difference checks (Double) of each layer's backward on tiny shapes.
/// Every check uses the scalar L = sum_k w_k out_k with fixed random weights w, so dOut = w.
final class LayerGradientTests: XCTestCase {
    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    func testRowL2Norm() {
        let rows = 3, dim = 5
        var x = FiniteDifference.values(rows * dim, seed: 1)
        for k in 0..<dim { x[dim + k] *= 1e-3 }  // a short row
        let w = FiniteDifference.values(rows * dim, seed: 2)
        func f(_ x: [Double]) -> Double {
            var y = [Double](repeating: 0, count: x.count), n = [Double](repeating: 0, count: rows)
            RowL2Norm.forward(x, rows: rows, dim: dim, y: &y, norms: &n)
            return dot(y, w)
        }
        var y = [Double](repeating: 0, count: x.count), n = [Double](repeating: 0, count: rows)
        RowL2Norm.forward(x, rows: rows, dim: dim, y: &y, norms: &n)
        var dx = [Double](repeating: 0, count: x.count)
        RowL2Norm.backward(x, norms: n, dy: w, rows: rows, dim: dim, dx: &dx)
        FiniteDifference.assertClose(dx, FiniteDifference.gradient(x, h: 1e-8, f), "l2norm rows", rtol: 1e-5)
    }

    func testRawFeatureNorms() {
        // A strided row (stride 3) with negative entries, so leaky_relu's slope matters.
        let n = 4, stride = 3
        let x = FiniteDifference.values(n * stride, seed: 3)
        let w = FiniteDifference.values(n, seed: 4)
        for norm in RawFeatureNorm.allCases {
            func f(_ x: [Double]) -> Double {
                var y = [Double](repeating: 0, count: n)
                RawNormLayer.forward(x, stride: stride, count: n, norm: norm, y: &y)
                return dot(y, w)
            }
            var y = [Double](repeating: 0, count: n), work = y
            RawNormLayer.forward(x, stride: stride, count: n, norm: norm, y: &y)
            var dx = [Double](repeating: 0, count: x.count)
            RawNormLayer.backward(x, stride: stride, count: n, norm: norm, y: y, dy: w, work: &work, dx: &dx)
            FiniteDifference.assertClose(dx, FiniteDifference.gradient(x, f), "raw norm \(norm.rawValue)")
        }
    }

    func testWeightNorm() {
        let count = 6
        let v = FiniteDifference.values(count, seed: 5)
        let g = 1.7
        let w = FiniteDifference.values(count, seed: 6)
        func f(_ gv: [Double]) -> Double {
            let (weight, _) = WeightNorm.forward(g: gv[0], v: Array(gv[1...]), count: count)
            return dot(weight, w)
        }
        let (_, norm) = WeightNorm.forward(g: g, v: v, count: count)
        var dg = 0.0
        var dv = [Double](repeating: 0, count: count)
        WeightNorm.backward(dWeight: w, g: g, v: v, norm: norm, count: count, dg: &dg, dv: &dv)
        FiniteDifference.assertClose([dg] + dv, FiniteDifference.gradient([g] + v, f), "weight norm")
    }

    func testImageEncoder() {
        let rows = 4, f = 5, d = 3
        let feats = FiniteDifference.values(rows * f, seed: 7, 0, 1)
        let wOut = FiniteDifference.values(rows * d, seed: 8)
        for normalize in [true, false] {
            let params = FiniteDifference.values(d * f + d, seed: 9)
            func fn(_ p: [Double]) -> Double {
                let c = ImageEncoderLayer.forward(features: feats, rows: rows, imgDim: f, embed: d,
                                                  weight: Array(p[0..<(d * f)]), bias: Array(p[(d * f)...]), normalize: normalize)
                return dot(c.out, wOut)
            }
            let c = ImageEncoderLayer.forward(features: feats, rows: rows, imgDim: f, embed: d,
                                              weight: Array(params[0..<(d * f)]), bias: Array(params[(d * f)...]), normalize: normalize)
            var dW = [Double](repeating: 0, count: d * f), dB = [Double](repeating: 0, count: d)
            ImageEncoderLayer.backward(c, features: feats, imgDim: f, embed: d, dOut: wOut, dWeight: &dW, dBias: &dB)
            FiniteDifference.assertClose(dW + dB, FiniteDifference.gradient(params, fn), "image encoder normalize=\(normalize)")
        }
    }

    /// GRU through time, both directions, lengths 5, 2, 1 and 3 (unsorted, with a tie broken by order);
    /// the 14 tokens read 6 distinct input rows (repeated words), so dx accumulates per row.
    func testGRUBothDirections() {
        let e = 3, h = 4, g = 3 * h
        let lengths = [2, 5, 1, 3, 3]
        let sched = PackedSchedule(lengths: lengths)
        let tokens = sched.tokens
        let u = 6
        let inputRow = (0..<tokens).map { ($0 * 5 + 1) % u }
        let x0 = FiniteDifference.values(u * e, seed: 10)
        let wOut = FiniteDifference.values(tokens * h, seed: 11)
        let nW = g * e + g * h + 2 * g
        let p0 = FiniteDifference.values(nW, seed: 12, -0.8, 0.8)
        func split(_ p: [Double]) -> ([Double], [Double], [Double], [Double]) {
            (Array(p[0..<(g * e)]), Array(p[(g * e)..<(g * e + g * h)]),
             Array(p[(g * e + g * h)..<(g * e + g * h + g)]), Array(p[(g * e + g * h + g)...]))
        }
        for reverse in [false, true] {
            func run(_ p: [Double], _ x: [Double]) -> GRUCache<Double> {
                let (wih, whh, bih, bhh) = split(p)
                return wih.withUnsafeBufferPointer { a in whh.withUnsafeBufferPointer { b in
                    bih.withUnsafeBufferPointer { c in bhh.withUnsafeBufferPointer { d in
                        GRULayer.forward(x: x, inputRows: u, inputRow: inputRow, inputSize: e, hidden: h, schedule: sched, reverse: reverse,
                                         weights: GRUWeights(wih: a.baseAddress!, whh: b.baseAddress!, bih: c.baseAddress!, bhh: d.baseAddress!))
                    }}
                }}
            }
            let cache = run(p0, x0)
            var dp = [Double](repeating: 0, count: nW)
            var dx = [Double](repeating: 0, count: u * e)
            let (wih, whh, bih, bhh) = split(p0)
            wih.withUnsafeBufferPointer { a in whh.withUnsafeBufferPointer { b in
            bih.withUnsafeBufferPointer { c in bhh.withUnsafeBufferPointer { d in
            dp.withUnsafeMutableBufferPointer { dpb in
                let base = dpb.baseAddress!
                GRULayer.backward(cache, x: x0, inputSize: e, schedule: sched,
                                  weights: GRUWeights(wih: a.baseAddress!, whh: b.baseAddress!, bih: c.baseAddress!, bhh: d.baseAddress!),
                                  dOut: wOut,
                                  grads: GRUGradients(wih: base, whh: base + g * e, bih: base + g * e + g * h, bhh: base + g * e + g * h + g),
                                  dx: &dx)
            }}}}}
            FiniteDifference.assertClose(dp, FiniteDifference.gradient(p0) { dot(run($0, x0).out, wOut) }, "GRU weights reverse=\(reverse)")
            FiniteDifference.assertClose(dx, FiniteDifference.gradient(x0) { dot(run(p0, $0).out, wOut) }, "GRU input reverse=\(reverse)")
        }
    }

    func testContrastiveLoss() {
        let n = 4
        let s = FiniteDifference.values(n * n, seed: 13, -0.5, 0.5)
        for maxViolation in [false, true] {
            let (_, dS) = ContrastiveLoss.forwardBackward(scores: s, count: n, margin: 0.2, maxViolation: maxViolation)
            let num = FiniteDifference.gradient(s) {
                ContrastiveLoss.forwardBackward(scores: $0, count: n, margin: 0.2, maxViolation: maxViolation).loss
            }
            FiniteDifference.assertClose(dS, num, "contrastive loss max_violation=\(maxViolation)")
        }
    }

    /// The batched attention backward (DESIGN §5 shortcut) w.r.t. the region and word embeddings,
    /// for every raw norm x aggregation x direction, ragged regions (one image has 1 region) and
    /// words (one caption has 2 tokens), on both the dense and the per-pair product paths.
    func testCrossAttentionEveryConfiguration() {
        let d = 4
        let regionOffsets = [0, 3, 4, 7]   // 3, 1, 3 regions
        let wordOffsets = [0, 2, 6, 9]     // 2, 4, 3 words
        let nr = regionOffsets.last!, nw = wordOffsets.last!
        let r0 = FiniteDifference.values(nr * d, seed: 14)
        let w0 = FiniteDifference.values(nw * d, seed: 15)
        // Weights on the score matrix, with zeros so that the per-pair path skips pairs.
        var wScores = FiniteDifference.values(9, seed: 16)
        wScores[1] = 0; wScores[5] = 0
        for dir in CrossAttn.allCases {
            for norm in RawFeatureNorm.allCases {
                for agg in AggFunc.allCases {
                    let at = CrossAttention(direction: dir, rawFeatureNorm: norm, aggFunc: agg,
                                            lambdaSoftmax: dir == .t2i ? 9 : 4, lambdaLSE: dir == .t2i ? 6 : 5)
                    func f(_ r: [Double], _ w: [Double]) -> Double {
                        let c = CrossAttentionLayer.forward(regions: r, regionOffsets: regionOffsets, words: w,
                                                            wordOffsets: wordOffsets, dim: d, attention: at)
                        return dot(c.scores, wScores)
                    }
                    let cache = CrossAttentionLayer.forward(regions: r0, regionOffsets: regionOffsets, words: w0,
                                                            wordOffsets: wordOffsets, dim: d, attention: at)
                    // The straightforward forward of SCANModel agrees with the shortcut.
                    for i in 0..<3 {
                        for j in 0..<3 {
                            let s = r0.withUnsafeBufferPointer { rb in w0.withUnsafeBufferPointer { wb in
                                at.score(regions: rb.baseAddress! + regionOffsets[i] * d, nRegions: regionOffsets[i + 1] - regionOffsets[i],
                                         words: wb.baseAddress! + wordOffsets[j] * d, nWords: wordOffsets[j + 1] - wordOffsets[j], dim: d)
                            }}
                            XCTAssertEqual(cache.scores[i * 3 + j], s, accuracy: 1e-12, "\(dir) \(norm) \(agg): score (\(i),\(j))")
                        }
                    }
                    let numR = FiniteDifference.gradient(r0) { f($0, w0) }
                    let numW = FiniteDifference.gradient(w0) { f(r0, $0) }
                    for threshold in [0.0, 2.0] {
                        var dR = [Double](repeating: 0, count: nr * d), dW = [Double](repeating: 0, count: nw * d)
                        CrossAttentionLayer.backward(cache, regions: r0, words: w0, attention: at, dScores: wScores,
                                                     dRegions: &dR, dWords: &dW, denseThreshold: threshold)
                        let what = "\(dir.rawValue) \(norm.rawValue) \(agg.rawValue) threshold \(threshold)"
                        FiniteDifference.assertClose(dR, numR, what + ": dRegions", rtol: 1e-5)
                        FiniteDifference.assertClose(dW, numW, what + ": dWords", rtol: 1e-5)
                    }
                }
            }
        }
    }
}
