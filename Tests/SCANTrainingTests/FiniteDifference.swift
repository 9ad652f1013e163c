import XCTest

/// Central finite differences in Double, for checking the backward passes.
enum FiniteDifference {
    /// d f / d x_k for every k by (f(x + h e_k) - f(x - h e_k)) / 2h.
    static func gradient(_ x: [Double], h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
        var xp = x
        var out = [Double](repeating: 0, count: x.count)
        for k in 0..<x.count {
            let v = xp[k]
            xp[k] = v + h; let fp = f(xp)
            xp[k] = v - h; let fm = f(xp)
            xp[k] = v
            out[k] = (fp - fm) / (2 * h)
        }
        return out
    }

    /// Fails unless max |analytic - numeric| <= rtol * max(max |numeric|, floor).
    @discardableResult
    static func assertClose(_ analytic: [Double], _ numeric: [Double], _ what: String, rtol: Double = 1e-6,
                            floor: Double = 1e-6, file: StaticString = #filePath, line: UInt = #line) -> Double {
        XCTAssertEqual(analytic.count, numeric.count, what, file: file, line: line)
        var dev = 0.0, scale = 0.0
        for k in 0..<min(analytic.count, numeric.count) {
            dev = max(dev, abs(analytic[k] - numeric[k]))
            scale = max(scale, abs(numeric[k]))
        }
        let ratio = dev / max(scale, floor)
        XCTAssertLessThanOrEqual(ratio, rtol, "\(what): max deviation \(dev) vs gradient scale \(scale)", file: file, line: line)
        XCTAssertTrue(analytic.allSatisfy { $0.isFinite }, "\(what): non-finite gradient", file: file, line: line)
        return ratio
    }

    /// Deterministic pseudo-random values in [lo, hi).
    static func values(_ n: Int, seed: UInt64, _ lo: Double = -1, _ hi: Double = 1) -> [Double] {
        var s = seed &* 0x9E37_79B9_7F4A_7C15 &+ 1
        return (0..<n).map { _ in
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return lo + (hi - lo) * Double(s >> 11) / 9_007_199_254_740_992.0
        }
    }
}
