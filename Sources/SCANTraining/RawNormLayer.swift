import SCANModel

/// The backward of `RawFeatureNormalization` (SCANModel holds the forward, which this layer's
/// callers run first): the gradient of the normalisation of raw attention logits along the query
/// axis, for every `raw_feature_norm`.
///
/// Rows are strided views (`stride` between elements) into the (regions x words) logit matrix;
/// `y` and `dy` are contiguous scratch rows.
enum RawNormLayer {
    static let slope = RawFeatureNormalization.slope
    static let eps = RawFeatureNormalization.eps

    static func forward<T: TrainScalar>(_ x: UnsafePointer<T>, stride: Int, count n: Int, norm: RawFeatureNorm,
                                        y: UnsafeMutablePointer<T>) {
        RawFeatureNormalization.forward(x, stride: stride, count: n, norm: norm, y: y)
    }

    /// dx (strided) += d norm(x) given dy; `y` is this row's forward output. `work` is scratch of n.
    static func backward<T: TrainScalar>(_ x: UnsafePointer<T>, stride: Int, count n: Int, norm: RawFeatureNorm,
                                         y: UnsafePointer<T>, dy: UnsafePointer<T>, work l: UnsafeMutablePointer<T>,
                                         dx: UnsafeMutablePointer<T>) {
        let clip = RawFeatureNormalization.isClipped(norm)
        // l = leaky(x) (or x): the input of the norm proper, which the l2 and l1 formulas need.
        for q in 0..<n {
            let v = x[q * stride]
            l[q] = clip && v < 0 ? v * T(slope) : v
        }
        // emit(q, dl) adds dL/dl_q into dx_q through the leaky slope.
        @inline(__always) func emit(_ q: Int, _ dl: T) {
            let v = x[q * stride]
            // torch's leaky_relu backward: slope where x <= 0.
            dx[q * stride] += clip && !(v > 0) ? dl * T(slope) : dl
        }
        switch norm {
        case .clippedL2norm, .l2norm:
            var ss: T = 0, dot: T = 0
            for q in 0..<n { ss += l[q] * l[q]; dot += l[q] * dy[q] }
            let nrm = ss.squareRoot()
            let ne = nrm + T(eps)
            let a = 1 / ne
            let b = nrm > 0 ? dot / (nrm * ne * ne) : 0
            for q in 0..<n { emit(q, a * dy[q] - b * l[q]) }
        case .clippedL1norm, .l1norm:
            var s: T = 0, dot: T = 0
            for q in 0..<n { s += abs(l[q]); dot += l[q] * dy[q] }
            let se = s + T(eps)
            let a = 1 / se
            let b = dot / (se * se)
            for q in 0..<n {
                let sign: T = l[q] > 0 ? 1 : (l[q] < 0 ? -1 : 0)
                emit(q, a * dy[q] - b * sign)
            }
        case .softmax:
            var dot: T = 0
            for q in 0..<n { dot += y[q] * dy[q] }
            for q in 0..<n { emit(q, y[q] * (dy[q] - dot)) }
        case .clipped, .noNorm:
            for q in 0..<n { emit(q, dy[q]) }
        }
    }
}
