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
