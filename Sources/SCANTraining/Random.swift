/// xoshiro256** for training, so that `--seed` reproduces a run on any platform (SplitMix64,
/// which seeds it, lives in SCANCore).
import SCANCore

/// xoshiro256** (Blackman, Vigna 2018), seeded through SplitMix64.
public struct Xoshiro256StarStar: RandomNumberGenerator, Sendable {
    public var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var sm = SplitMix64(seed: seed)
        s = (sm.next(), sm.next(), sm.next(), sm.next())
    }

    @inline(__always)
    static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = Self.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = Self.rotl(s.3, 45)
        return result
    }

    /// A float uniform in [lo, hi) from the top 24 bits.
    @inline(__always)
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
        let u = Float(next() >> 40) * (1.0 / 16_777_216.0)
        return lo + (hi - lo) * u
    }

    /// A double uniform in [0, 1) from the top 53 bits.
    @inline(__always)
    public mutating func unitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}
