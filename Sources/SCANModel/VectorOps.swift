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

    /// sqrt(sum x^2) of each row of a (rows x dim) buffer into `out` (the cosine's query norms).
    public static func rowNorms<T: BinaryFloatingPoint>(_ x: UnsafePointer<T>, rows: Int, dim: Int, into out: UnsafeMutablePointer<T>) {
        if T.self == Float.self {
            // The vectorised dot of the C kernels: these sets reach millions of rows in exact search.
            x.withMemoryRebound(to: Float.self, capacity: rows * dim) { f in
                for r in 0..<rows { out[r] = T(scan_dot(f + r * dim, f + r * dim, dim).squareRoot()) }
            }
            return
        }
        for r in 0..<rows {
            var s: T = 0
            let p = x + r * dim
            for k in 0..<dim { s += p[k] * p[k] }
            out[r] = s.squareRoot()
        }
    }

    @inline(__always) public static func sigmoid(_ x: Float) -> Float { 1 / (1 + Foundation.exp(-x)) }
}
