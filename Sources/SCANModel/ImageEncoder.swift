import SCANCore

/// SCAN's precomputed-feature image encoder: fc (img_dim -> embed) then l2norm unless no_imgnorm.
///
/// `EncoderImagePrecomp` and, with `precomp_enc_type=weight_norm`, `EncoderImageWeightNormPrecomp`
/// (W = g V / ||V||_F with a scalar g): both reduce to one effective weight at load time.
public struct ImageEncoder: Sendable {
    /// (embed x img_dim), the effective weight.
    public var weight: Tensor
    /// (embed)
    public var bias: [Float]
    public var normalize: Bool

    public var embedSize: Int { weight.shape[0] }
    public var imgDim: Int { weight.shape[1] }

    public init(weight: Tensor, bias: [Float], normalize: Bool) {
        self.weight = weight; self.bias = bias; self.normalize = normalize
    }

    /// W = g * V / ||V||_F, computed in double like a careful framework would (the norm of a
    /// 2M-element matrix loses digits in float).
    public static func weightNormEffective(g: Float, v: Tensor) -> Tensor {
        var ss = 0.0
        for x in v.data { ss += Double(x) * Double(x) }
        let scale = Float(Double(g) / ss.squareRoot())
        return Tensor(shape: v.shape, data: v.data.map { $0 * scale })
    }

    /// Encodes `rows` feature vectors (rows x img_dim, contiguous) into `out` (rows x embed).
    public func encode(_ features: UnsafePointer<Float>, rows: Int, into out: UnsafeMutablePointer<Float>) {
        let e = embedSize
        bias.withUnsafeBufferPointer { b in
            for r in 0..<rows { (out + r * e).update(from: b.baseAddress!, count: e) }
        }
        weight.data.withUnsafeBufferPointer { w in
            BLAS.sgemm(transB: true, m: rows, n: e, k: imgDim, a: features, lda: imgDim,
                       b: w.baseAddress!, ldb: imgDim, beta: 1, c: out, ldc: e)
        }
        if normalize { VectorOps.l2normalizeRows(out, rows: rows, dim: e) }
    }

    /// Encodes every item of a ragged set of raw features (dim = img_dim).
    public func encode(_ features: EmbeddingSet) -> EmbeddingSet {
        precondition(features.dim == imgDim)
        var data = [Float](repeating: 0, count: features.totalRows * embedSize)
        features.data.withUnsafeBufferPointer { f in
            data.withUnsafeMutableBufferPointer { o in
                // One large product; BLAS spreads it over the cores.
                encode(f.baseAddress!, rows: features.totalRows, into: o.baseAddress!)
            }
        }
        return EmbeddingSet(dim: embedSize, offsets: features.offsets, data: data)
    }

    /// Encodes (n_images x n_regions x img_dim) precomputed features.
    public func encode(_ images: Tensor) -> EmbeddingSet {
        encode(EmbeddingSet(uniform: images))
    }
}
