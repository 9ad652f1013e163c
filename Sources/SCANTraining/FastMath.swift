/// exp and tanh for eight floats at once, for the elementwise loops of the training step
/// (GRU gates, attention softmax). Swift's default x86-64 target has SSE2 only and calls libm per
/// element; these run as plain SIMD arithmetic. Accuracy: Cephes' single-precision polynomials,
/// within 2 ulp of the correctly rounded result over the range used (checked in the tests).
enum FastMath {
    typealias V = SIMD8<Float>

    /// e^x; inputs are clamped to [-87.3, 88.7] (results in the normal range, no inf or 0).
    @inline(__always)
    static func exp(_ x: V) -> V {
        // (Comparisons and selects: the stdlib's pointwiseMin/Max are not inlined.)
        var xc = x.replacing(with: -87.3, where: x .< -87.3)
        xc.replace(with: 88.7, where: xc .> 88.7)
        // n = round(x / ln2) by the 1.5 * 2^23 trick (SSE2 has no vector round, and Swift's
        // rounding and float-to-int conversions would go lane by lane); its bits also give n.
        let magic: Float = 12_582_912
        let shifted = xc * 1.442_695_04 + magic
        let n = shifted - magic
        // r = x - n ln2, with ln2 split in two for accuracy.
        var r = xc - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p = V(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * (r * r) + r + 1
        // 2^n from the exponent bits: n sits in the low mantissa bits of `shifted`.
        let ni = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000
        return y * unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
    }

    /// 1 / (1 + e^-x)
    @inline(__always)
    static func sigmoid(_ x: V) -> V { 1 / (1 + exp(-x)) }

    /// tanh: an odd polynomial for |x| < 0.625, 1 - 2 / (e^{2|x|} + 1) with the sign of x beyond.
    @inline(__always)
    static func tanh(_ x: V) -> V {
        let ax = x.replacing(with: -x, where: x .< 0)
        let z = x * x
        var p = V(repeating: -5.704_988_72e-3)
        p = p * z + 2.063_908_88e-2
        p = p * z - 5.373_971_55e-2
        p = p * z + 1.333_144_22e-1
        p = p * z - 3.333_328_19e-1
        let small = p * z * x + x
        let e = exp(2 * ax)
        var large = 1 - 2 / (e + 1)
        large.replace(with: -large, where: x .< 0)
        var out = large
        out.replace(with: small, where: ax .< 0.625)
        return out
    }

    /// p[k] = e^{p[k] - shift} for k < n: eight lanes at a time for Float, libm for other types.
    @inline(__always)
    static func expInPlace<T: TrainScalar>(_ p: UnsafeMutablePointer<T>, count n: Int, minus shift: T) {
        guard T.self == Float.self else {
            for k in 0..<n { p[k] = T.exp(p[k] - shift) }
            return
        }
        let raw = UnsafeMutableRawPointer(p)
        let s = V(repeating: Float(shift))
        let sz = MemoryLayout<Float>.stride
        var k = 0
        while k + 8 <= n {
            raw.storeBytes(of: exp(raw.loadUnaligned(fromByteOffset: k * sz, as: V.self) - s), toByteOffset: k * sz, as: V.self)
            k += 8
        }
        if k < n {
            var v = V(repeating: 0)
            for l in 0..<(n - k) { v[l] = raw.load(fromByteOffset: (k + l) * sz, as: Float.self) }
            let y = exp(v - s)
            for l in 0..<(n - k) { raw.storeBytes(of: y[l], toByteOffset: (k + l) * sz, as: Float.self) }
        }
    }
}
