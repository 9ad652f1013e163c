import SCANModel

/// SCAN's `l2norm` along the last axis, y = x / (sqrt(sum x^2) + 1e-8), with its backward.
///
/// Shapes: x, y, dy, dx are (N x D) row major; norms (N).
enum RowL2Norm {
    static let eps = 1e-8

    /// y = x / (|x| + eps) per row; `norms` receives |x|. `y` must not alias `x`: the backward
    /// needs the rows before the norm.
    static func forward<T: TrainScalar>(_ x: UnsafePointer<T>, rows: Int, dim: Int,
                                        y: UnsafeMutablePointer<T>, norms: UnsafeMutablePointer<T>) {
        Parallel.forChunks(rows, minChunk: max(1, 8192 / max(1, dim))) { range in
            for r in range {
                let xr = x + r * dim, yr = y + r * dim
                var ss: T = 0
                for k in 0..<dim { ss += xr[k] * xr[k] }
                let n = ss.squareRoot()
                norms[r] = n
                let inv = 1 / (n + T(eps))
                for k in 0..<dim { yr[k] = xr[k] * inv }
            }
        }
    }

    /// dx += dy/(n + eps) - x (x . dy) / (n (n + eps)^2) per row (n = |x|; a zero row passes dy/eps).
    static func backward<T: TrainScalar>(_ x: UnsafePointer<T>, norms: UnsafePointer<T>, dy: UnsafePointer<T>,
                                         rows: Int, dim: Int, dx: UnsafeMutablePointer<T>) {
        Parallel.forChunks(rows, minChunk: max(1, 8192 / max(1, dim))) { range in
            for r in range {
                let xr = x + r * dim, dyr = dy + r * dim, dxr = dx + r * dim
                let n = norms[r]
                let ne = n + T(eps)
                var dot: T = 0
                for k in 0..<dim { dot += xr[k] * dyr[k] }
                let a = 1 / ne
                let b = n > 0 ? dot / (n * ne * ne) : 0
                for k in 0..<dim { dxr[k] += a * dyr[k] - b * xr[k] }
            }
        }
    }

    /// The encoders' use: `pre` (rows x dim) -> (its normalised rows, their norms).
    static func forward<T: TrainScalar>(_ pre: [T], rows: Int, dim: Int) -> (out: [T], norms: [T]) {
        var out = [T](repeating: 0, count: rows * dim)
        var norms = [T](repeating: 0, count: rows)
        pre.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { y in
                norms.withUnsafeMutableBufferPointer { n in
                    forward(x.baseAddress!, rows: rows, dim: dim, y: y.baseAddress!, norms: n.baseAddress!)
                }
            }
        }
        return (out, norms)
    }

    /// The encoders' use: the gradient with respect to `pre` (rows x dim) given dy of the normalised rows.
    static func backward<T: TrainScalar>(_ pre: [T], norms: [T], dy: UnsafePointer<T>, rows: Int, dim: Int) -> [T] {
        var dx = [T](repeating: 0, count: rows * dim)
        pre.withUnsafeBufferPointer { x in
            norms.withUnsafeBufferPointer { n in
                dx.withUnsafeMutableBufferPointer { d in
                    backward(x.baseAddress!, norms: n.baseAddress!, dy: dy, rows: rows, dim: dim, dx: d.baseAddress!)
                }
            }
        }
        return dx
    }

}
