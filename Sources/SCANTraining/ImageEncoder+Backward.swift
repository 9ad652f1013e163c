/// The image encoder for training: fc (img_dim -> embed) then l2norm unless no_imgnorm, with the
/// weight-normalised variant W = g V / ||V||_F (scalar g) of `precomp_enc_type=weight_norm`.
///
/// Shapes: N regions over the batch, F img_dim, D embed. features (N x F), weight (D x F), bias (D).
struct ImageEncoderCache<T: TrainScalar> {
    var rows = 0
    /// (N x D) fc output before the norm.
    var pre: [T] = []
    /// (N) row norms of `pre` (empty with no_imgnorm).
    var norms: [T] = []
    /// (N x D) the encoder output (the region embeddings).
    var out: [T] = []
    var normalize = true
}

enum ImageEncoderLayer {
    static func forward<T: TrainScalar>(features: UnsafePointer<T>, rows: Int, imgDim: Int, embed: Int,
                                        weight: UnsafePointer<T>, bias: UnsafePointer<T>,
                                        normalize: Bool) -> ImageEncoderCache<T> {
        var c = ImageEncoderCache<T>()
        c.rows = rows
        c.normalize = normalize
        c.pre = [T](repeating: 0, count: rows * embed)
        c.pre.withUnsafeMutableBufferPointer { pre in
            for r in 0..<rows { (pre.baseAddress! + r * embed).update(from: bias, count: embed) }
            // pre (N x D) += features (N x F) W^T (F x D)
            PhaseProfiler.measure("image fwd: fc (gemm)") {
                ConcurrentBLAS.gemm(transA: false, transB: true, m: rows, n: embed, k: imgDim, alpha: 1,
                       a: features, lda: imgDim, b: weight, ldb: imgDim, beta: 1, c: pre.baseAddress!, ldc: embed)
            }
        }
        if normalize {
            c.out = [T](repeating: 0, count: rows * embed)
            c.norms = [T](repeating: 0, count: rows)
            c.pre.withUnsafeBufferPointer { pre in
                c.out.withUnsafeMutableBufferPointer { out in
                    c.norms.withUnsafeMutableBufferPointer { n in
                        RowL2Norm.forward(pre.baseAddress!, rows: rows, dim: embed, y: out.baseAddress!, norms: n.baseAddress!)
                    }
                }
            }
        } else {
            c.out = c.pre
        }
        return c
    }

    /// Given dOut (N x D): dWeight (D x F) += dPre^T features, dBias (D) += column sums of dPre.
    /// No gradient flows into the features (they are data).
    static func backward<T: TrainScalar>(_ c: ImageEncoderCache<T>, features: UnsafePointer<T>, imgDim: Int, embed: Int,
                                         dOut: UnsafePointer<T>,
                                         dWeight: UnsafeMutablePointer<T>, dBias: UnsafeMutablePointer<T>) {
        let rows = c.rows
        var dPreStore: [T] = []
        let body = { (dPre: UnsafePointer<T>) in
            PhaseProfiler.measure("image bwd: dW (gemm)") {
                ConcurrentBLAS.gemm(transA: true, transB: false, m: embed, n: imgDim, k: rows, alpha: 1,
                       a: dPre, lda: embed, b: features, ldb: imgDim, beta: 1, c: dWeight, ldc: imgDim)
            }
            Buffers.addColumnSums(dPre, rows: rows, dim: embed, ld: embed, into: dBias)
        }
        if c.normalize {
            dPreStore = [T](repeating: 0, count: rows * embed)
            c.pre.withUnsafeBufferPointer { pre in
                c.norms.withUnsafeBufferPointer { n in
                    dPreStore.withUnsafeMutableBufferPointer { d in
                        RowL2Norm.backward(pre.baseAddress!, norms: n.baseAddress!, dy: dOut, rows: rows, dim: embed, dx: d.baseAddress!)
                    }
                }
            }
            dPreStore.withUnsafeBufferPointer { body($0.baseAddress!) }
        } else {
            body(dOut)
        }
    }
}

/// W = g V / ||V||_F with a scalar g (PyTorch `weight_norm(..., dim=None)`).
enum WeightNorm {
    /// The effective weight and ||V||_F (the norm is accumulated in Double).
    static func forward<T: TrainScalar>(g: T, v: UnsafePointer<T>, count: Int) -> (weight: [T], norm: T) {
        var ss = 0.0
        for i in 0..<count { let d = Double(v[i]); ss += d * d }
        let norm = ss.squareRoot()
        let scale = T(Double(g) / norm)
        var w = [T](repeating: 0, count: count)
        for i in 0..<count { w[i] = v[i] * scale }
        return (w, T(norm))
    }

    /// dg += (dW . V) / ||V||;  dV += (g / ||V||) dW - g (dW . V) / ||V||^3 V.
    static func backward<T: TrainScalar>(dWeight: UnsafePointer<T>, g: T, v: UnsafePointer<T>, norm: T, count: Int,
                                         dg: UnsafeMutablePointer<T>, dv: UnsafeMutablePointer<T>) {
        var dot = 0.0
        for i in 0..<count { dot += Double(dWeight[i]) * Double(v[i]) }
        let n = Double(norm)
        dg.pointee += T(dot / n)
        let a = T(Double(g) / n)
        let b = T(Double(g) * dot / (n * n * n))
        for i in 0..<count { dv[i] += a * dWeight[i] - b * v[i] }
    }
}
