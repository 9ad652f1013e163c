import SCANCore

/// The normalisation of raw attention logits along the query axis, one context row at a time, for
/// every `raw_feature_norm` (the original's semantics, DESIGN §3): clipped_l2norm = leaky_relu(0.1)
/// then x / (|x| + 1e-8); l2norm; clipped_l1norm = leaky_relu then x / (sum |x| + 1e-8); l1norm;
/// clipped = leaky_relu only; no_norm; softmax along the query axis. The one forward of the project:
/// the straightforward scorer and the training layer (whose backward sits next to it) both call it.
public enum RawFeatureNormalization {
    public static let eps = 1e-8
    public static let slope = 0.1

    @inlinable
    public static func isClipped(_ norm: RawFeatureNorm) -> Bool {
        norm == .clipped || norm == .clippedL2norm || norm == .clippedL1norm
    }

    /// y[q] = norm(x)[q] for q < n, where `x` is a strided row (`stride` between elements) and `y`
    /// contiguous. `y` may be `x` itself when `stride` is 1.
    @inlinable
    public static func forward<T: BinaryFloatingPoint & ElementaryFunctionsProvider>(
        _ x: UnsafePointer<T>, stride: Int, count n: Int, norm: RawFeatureNorm, y: UnsafeMutablePointer<T>
    ) {
        let clip = isClipped(norm)
        for q in 0..<n {
            let v = x[q * stride]
            y[q] = clip && v < 0 ? v * T(slope) : v
        }
        switch norm {
        case .clippedL2norm, .l2norm:
            var ss: T = 0
            for q in 0..<n { ss += y[q] * y[q] }
            let inv = 1 / (ss.squareRoot() + T(eps))
            for q in 0..<n { y[q] *= inv }
        case .clippedL1norm, .l1norm:
            var s: T = 0
            for q in 0..<n { s += abs(y[q]) }
            let inv = 1 / (s + T(eps))
            for q in 0..<n { y[q] *= inv }
        case .softmax:
            guard n > 0 else { return }
            var m = y[0]
            for q in 1..<n where y[q] > m { m = y[q] }
            var s: T = 0
            for q in 0..<n { y[q] = T.exp(y[q] - m); s += y[q] }
            for q in 0..<n { y[q] /= s }
        case .clipped, .noNorm:
            break
        }
    }
}
