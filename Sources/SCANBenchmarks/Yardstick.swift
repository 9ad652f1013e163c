import Foundation
import SCANCore

/// The one way every benchmark measures time, the machine's sgemm rate, memory and load, so that
/// numbers printed by different benchmarks (and quoted side by side in the README) are comparable.
public enum Yardstick {
    /// Monotonic seconds.
    public static func now() -> Double { ProgressReporter.now() }

    /// Median of `repeats` timings of one (m x k) x (n x k)^T sgemm (the layout of SCAN's products,
    /// B transposed), in GFLOP/s, on the BLAS threads the process has.
    public static func sgemmRate(m: Int, n: Int, k: Int, repeats: Int = 3) -> Double {
        var a = [Float](repeating: 0, count: m * k), b = [Float](repeating: 0, count: n * k)
        for i in 0..<a.count { a[i] = Float(i % 7) * 0.01 }
        for i in 0..<b.count { b[i] = Float(i % 5) * 0.01 }
        var c = [Float](repeating: 0, count: m * n)
        var times: [Double] = []
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            for _ in 0..<max(1, repeats) {
                let t = now()
                BLAS.sgemm(transB: true, m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k, c: cp.baseAddress!, ldc: n)
                times.append(now() - t)
            }
        }}}
        return 2 * Double(m) * Double(n) * Double(k) / median(times) / 1e9
    }

    /// The yardstick line every benchmark prints first: the BLAS kernel and the square and SCAN-shaped sgemm rates.
    public static func sgemmLine() -> String {
        String(format: "yardstick (OpenBLAS %@): sgemm 4096^3 %.1f GFLOP/s; SCAN-shaped 4608x2048x1024 %.1f GFLOP/s (median of 3)",
               BLAS.coreName, sgemmRate(m: 4096, n: 4096, k: 4096), sgemmRate(m: 4608, n: 2048, k: 1024))
    }

    /// Peak resident memory of the process (ru_maxrss), in bytes.
    public static func peakRSSBytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    /// User + system CPU time of the process so far.
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    /// /proc/loadavg's 1, 5 and 15 minute averages (other processes share the cores), or "n/a".
    public static func loadAverage() -> String {
        guard let s = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) else { return "n/a" }
        return s.split(separator: " ").prefix(3).joined(separator: " ")
    }

    /// The q-quantile (nearest rank) of `xs`; NaN when empty.
    public static func percentile(_ xs: [Double], _ q: Double) -> Double {
        guard !xs.isEmpty else { return .nan }
        let s = xs.sorted()
        return s[min(s.count - 1, Int((q * Double(s.count - 1)).rounded()))]
    }

    public static func median(_ xs: [Double]) -> Double { percentile(xs, 0.5) }
}
