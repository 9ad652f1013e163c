import Foundation
import SCANCore

/// The demo world's random numbers: SplitMix64, identical on every platform, so that a seed always
/// gives the same world byte for byte.
///
/// Independent streams (one per split and image, one per purpose) come from `DemoWorldRandom(seed:_:)`,
/// which mixes the world seed with a few integers; nothing depends on the order in which streams are
/// used, so images can be generated in parallel.
public struct DemoWorldRandom: Sendable {
    private var base: SplitMix64

    public init(state: UInt64) { base = SplitMix64(seed: state) }

    /// A stream identified by the world seed and `path` (e.g. split, image index, purpose).
    public init(seed: UInt64, _ path: UInt64...) {
        var h = SplitMix64.mix(seed ^ 0x5CA1_AB1E_D3E0_0001)
        for p in path { h = SplitMix64.mix(h ^ SplitMix64.mix(p &+ 0x9E37_79B9_7F4A_7C15)) }
        base = SplitMix64(seed: h)
    }

    public mutating func next() -> UInt64 { base.next() }

    /// Uniform in [0, 1) with 24 random bits.
    public mutating func uniform() -> Float { Float(next() >> 40) * (1.0 / 16_777_216.0) }

    /// Uniform in [lo, hi).
    public mutating func uniform(_ lo: Float, _ hi: Float) -> Float { lo + (hi - lo) * uniform() }

    /// Uniform in [0, n) (n > 0).
    public mutating func int(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(next() % UInt64(n))
    }

    /// Uniform in `range`.
    public mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + int(range.count) }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) * 0x1p-53 < p }

    /// Exponential with mean 1.
    public mutating func exponential() -> Float {
        // 1 - u is in (0, 1]: the logarithm is finite.
        -Float(Foundation.log(1.0 - Double(next() >> 11) * 0x1p-53))
    }

    /// A uniformly chosen element (the collection must not be empty).
    public mutating func pick<C: RandomAccessCollection>(_ c: C) -> C.Element where C.Index == Int {
        c[c.startIndex + int(c.count)]
    }

    /// Fisher-Yates shuffle.
    public mutating func shuffle<T>(_ a: inout [T]) {
        guard a.count > 1 else { return }
        for i in stride(from: a.count - 1, to: 0, by: -1) {
            let j = int(i + 1)
            if i != j { a.swapAt(i, j) }
        }
    }

    /// `k` distinct values of `0..<n` in random order (k <= n).
    public mutating func sample(_ k: Int, of n: Int) -> [Int] {
        precondition(k <= n)
        var all = Array(0..<n)
        for i in 0..<k { all.swapAt(i, i + int(n - i)) }
        return Array(all[0..<k])
    }
}
