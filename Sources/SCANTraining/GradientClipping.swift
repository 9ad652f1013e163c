import SCANModel

/// Clipping of the total L2 norm over all gradients, as torch's `clip_grad_norm_`:
/// coef = max_norm / (norm + 1e-6), applied when coef < 1.
public enum GradientClipping {
    /// The factor clipping would apply to gradients of total norm `norm` (1 when within `maxNorm`).
    public static func coefficient(norm: Double, maxNorm: Double) -> Double {
        let coef = maxNorm / (norm + 1e-6)
        return coef < 1 ? coef : 1
    }

    /// Scales `gradients` in place; returns the norm before clipping and the factor applied (1 if none).
    @discardableResult
    public static func clip(_ gradients: inout ParameterSet<Float>, maxNorm: Double) -> (norm: Double, coefficient: Double) {
        let norm = gradients.l2Norm
        let coef = maxNorm / (norm + 1e-6)
        guard coef < 1 else { return (norm, 1) }
        let c = Float(coef)
        gradients.data.withUnsafeMutableBufferPointer { g in
            let base = g.baseAddress!
            Parallel.forChunks(g.count, minChunk: 1 << 16) { range in
                for k in range { base[k] *= c }
            }
        }
        return (norm, coef)
    }
}
