import CSCANKernels
import Foundation

/// Row-wise operations shared by the encoders, with the original's epsilons.
public enum VectorOps {
    /// x / (sqrt(sum x^2) + 1e-8) for each row of a (rows x dim) buffer, in place (SCAN's l2norm).
    public static func l2normalizeRows(_ x: UnsafeMutablePointer<Float>, rows: Int, dim: Int) {
        for r in 0..<rows {
            let p = x + r * dim
            let ss = scan_dot(p, p, dim)
            let inv = 1 / (ss.squareRoot() + 1e-8)
            for k in 0..<dim { p[k] *= inv }
        }
    }

    public static func l2normalizeRows(_ data: inout [Float], dim: Int) {
        let rows = dim == 0 ? 0 : data.count / dim
        data.withUnsafeMutableBufferPointer { l2normalizeRows($0.baseAddress!, rows: rows, dim: dim) }
    }

    @inline(__always) public static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
}
