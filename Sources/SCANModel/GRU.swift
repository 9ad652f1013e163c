import Foundation
import SCANCore

/// One direction of a single-layer PyTorch GRU (gate order r, z, n in the stacked rows):
///   r = sigm(W_ir x + b_ir + W_hr h + b_hr); z = sigm(W_iz x + b_iz + W_hz h + b_hz)
///   n = tanh(W_in x + b_in + r * (W_hn h + b_hn)); h' = (1 - z) * n + z * h; h0 = 0.
public struct GRUDirection: Sendable {
    /// (3H x E)
    public var weightIH: Tensor
    /// (3H x H)
    public var weightHH: Tensor
    /// (3H)
    public var biasIH: [Float]
    /// (3H)
    public var biasHH: [Float]

    public var hidden: Int { weightHH.shape[1] }
    public var inputSize: Int { weightIH.shape[1] }

    public init(weightIH: Tensor, weightHH: Tensor, biasIH: [Float], biasHH: [Float]) {
        self.weightIH = weightIH; self.weightHH = weightHH; self.biasIH = biasIH; self.biasHH = biasHH
    }

    /// Input projections X W_ih^T + b_ih for all tokens at once: (T x 3H).
    public func inputProjections(_ x: UnsafePointer<Float>, tokens: Int) -> [Float] {
        let g = 3 * hidden
        var out = [Float](repeating: 0, count: tokens * g)
        out.withUnsafeMutableBufferPointer { o in
            biasIH.withUnsafeBufferPointer { b in
                for t in 0..<tokens { (o.baseAddress! + t * g).update(from: b.baseAddress!, count: g) }
            }
            weightIH.data.withUnsafeBufferPointer { w in
                BLAS.sgemm(transB: true, m: tokens, n: g, k: inputSize, a: x, lda: inputSize,
                           b: w.baseAddress!, ldb: inputSize, beta: 1, c: o.baseAddress!, ldc: g)
            }
        }
        return out
    }

    /// Runs the recurrence over packed sequences. `offsets` (count+1) delimit each sequence's rows in
    /// `gi` (T x 3H); the output (T x H) holds each step's hidden state at the same row.
    /// `reverse` runs each sequence from its last real token to its first (packed: no padding seen).
    public func run(inputProjections gi: [Float], offsets: [Int], reverse: Bool) -> [Float] {
        let h = hidden, g = 3 * h
        let n = offsets.count - 1
        let lengths = (0..<n).map { offsets[$0 + 1] - offsets[$0] }
        // Longest first, so the sequences alive at step t are a prefix of this order.
        let order = (0..<n).sorted { lengths[$0] > lengths[$1] }
        let maxLen = lengths.max() ?? 0
        var out = [Float](repeating: 0, count: offsets[n] * h)
        var state = [Float](repeating: 0, count: n * h)
        var gh = [Float](repeating: 0, count: n * g)
        var alive = n
        gi.withUnsafeBufferPointer { giP in
        out.withUnsafeMutableBufferPointer { outP in
        state.withUnsafeMutableBufferPointer { sP in
        gh.withUnsafeMutableBufferPointer { ghP in
        weightHH.data.withUnsafeBufferPointer { wP in
        biasHH.withUnsafeBufferPointer { bP in
            for t in 0..<maxLen {
                while alive > 0 && lengths[order[alive - 1]] <= t { alive -= 1 }
                let b = alive
                for i in 0..<b { (ghP.baseAddress! + i * g).update(from: bP.baseAddress!, count: g) }
                if t > 0 && b == 1 {
                    // One sequence (e.g. a search query): a matrix-vector product reads W_hh once,
                    // where sgemm would first pack all of it.
                    BLAS.sgemv(m: g, n: h, a: wP.baseAddress!, lda: h, x: sP.baseAddress!, beta: 1, y: ghP.baseAddress!)
                } else if t > 0 {
                    BLAS.sgemm(transB: true, m: b, n: g, k: h, a: sP.baseAddress!, lda: h,
                               b: wP.baseAddress!, ldb: h, beta: 1, c: ghP.baseAddress!, ldc: g)
                }
                Parallel.forChunks(b, minChunk: max(1, 16384 / max(1, h))) { range in
                    for i in range {
                        let s = order[i]
                        let pos = reverse ? lengths[s] - 1 - t : t
                        let row = offsets[s] + pos
                        let xi = giP.baseAddress! + row * g
                        let hh = ghP.baseAddress! + i * g
                        let hs = sP.baseAddress! + i * h
                        let o = outP.baseAddress! + row * h
                        for k in 0..<h {
                            let r = VectorOps.sigmoid(xi[k] + hh[k])
                            let z = VectorOps.sigmoid(xi[h + k] + hh[h + k])
                            let nn = Foundation.tanh(xi[2 * h + k] + r * hh[2 * h + k])
                            let hNew = (1 - z) * nn + z * hs[k]
                            hs[k] = hNew
                            o[k] = hNew
                        }
                    }
                }
            }
        }}}}}}
        return out
    }
}
