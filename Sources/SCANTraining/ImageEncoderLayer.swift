import SCANModel

/// The image encoder for training: fc (img_dim -> embed) then l2norm unless no_imgnorm, with the
/// weight-normalised variant W = g V / ||V||_F (scalar g) of `precomp_enc_type=weight_norm`.
///
/// Shapes: N regions over the batch, F img_dim, D embed. features (N x F), weight (D x F), bias (D).
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
            (c.out, c.norms) = RowL2Norm.forward(c.pre, rows: rows, dim: embed)
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
            dPreStore = RowL2Norm.backward(c.pre, norms: c.norms, dy: dOut, rows: rows, dim: embed)
            dPreStore.withUnsafeBufferPointer { body($0.baseAddress!) }
        } else {
            body(dOut)
        }
    }
}
