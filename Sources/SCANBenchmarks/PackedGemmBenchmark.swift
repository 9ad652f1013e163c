import CSCANKernels
import Foundation
import SCANCore

/// The GRU's W_hh products over a batch's time steps, single-threaded: OpenBLAS per step against
/// packing W_hh once and running `scan_gemm_packed_f32` on every step.
public struct PackedGemmBenchmark {
    /// Repetitions (medians are printed).
    public var repeats = 5

    public init() {}

    /// Alive captions per time step of a Flickr30K batch of 128 (37 steps: 128 x 9, then decreasing).
    static let gruSteps = [128, 128, 128, 128, 128, 128, 128, 128, 128, 127, 121, 114, 100, 87, 71, 57, 49, 38, 30, 23,
                           16, 13, 9, 7, 6, 5, 4, 4, 3, 2, 2, 2, 1, 1, 1, 1, 1]

    public func run(out: (String) -> Void = { print($0) }) {
        let threads = BLAS.threadCount
        BLAS.setThreadCount(1)
        defer { BLAS.setThreadCount(threads) }
        out("OpenBLAS kernel: \(BLAS.coreName), 1 thread; packed kernel build: \(scan_vector_build() == 1 ? "AVX2+FMA" : "baseline")")
        out(String(format: "sgemm 2048^3 (OpenBLAS, 1 thread): %.1f GFLOP/s", Yardstick.sgemmRate(m: 2048, n: 2048, k: 2048, repeats: 3)))
        let hidden = 1024, gates = 3 * hidden
        var rng = SplitMix64(seed: 9)
        let w = (0..<(gates * hidden)).map { _ in rng.uniform() - 0.5 }
        let h = (0..<(128 * hidden)).map { _ in rng.uniform() - 0.5 }
        let dg = (0..<(128 * gates)).map { _ in rng.uniform() - 0.5 }
        var c = [Float](repeating: 0, count: 128 * gates), c2 = c
        // 64-byte aligned, as a trainer would allocate it: no panel load crosses a cache line.
        let packedCount = scan_packed_size(hidden, gates)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: packedCount * MemoryLayout<Float>.size, alignment: 64)
        defer { raw.deallocate() }
        let packed = raw.bindMemory(to: Float.self, capacity: packedCount)

        out("products | steps | GFLOP | OpenBLAS ms | GFLOP/s | pack ms | ours ms (+ pack) | GFLOP/s (incl. pack) | ours / OpenBLAS rate (incl. pack) | max |diff|")
        for (label, steps) in [("37 steps: 128 x 9, then decreasing", Self.gruSteps), ("m = 128 alone", [128])] {
            for forward in [true, false] {
                // Forward: C (b x 3072) = H (b x 1024) W^T; backward: dH (b x 1024) = dG (b x 3072) W.
                let (n, k, a) = forward ? (gates, hidden, h) : (hidden, gates, dg)
                let flop = steps.reduce(0.0) { $0 + 2 * Double($1) * Double(n) * Double(k) }
                var blasT: [Double] = [], packT: [Double] = [], oursT: [Double] = []
                w.withUnsafeBufferPointer { pw in a.withUnsafeBufferPointer { pa in
                    c.withUnsafeMutableBufferPointer { pc in c2.withUnsafeMutableBufferPointer { pc2 in
                        for _ in 0..<repeats {
                            var t = Yardstick.now()
                            for b in steps {
                                BLAS.sgemm(transB: forward, m: b, n: n, k: k, a: pa.baseAddress!, lda: k,
                                           b: pw.baseAddress!, ldb: hidden, c: pc.baseAddress!, ldc: n)
                            }
                            blasT.append(Yardstick.now() - t)
                            t = Yardstick.now()
                            scan_pack_f32(pw.baseAddress!, hidden, forward ? 1 : 0, k, n, packed)
                            packT.append(Yardstick.now() - t)
                            t = Yardstick.now()
                            for b in steps { scan_gemm_packed_f32(b, n, k, pa.baseAddress!, k, packed, 0, pc2.baseAddress!, n) }
                            oursT.append(Yardstick.now() - t)
                        }
                    }}
                }}
                // Both routes' last product was the same step: their results must agree to rounding.
                let count = steps.last! * n
                let diff = zip(c[0..<count], c2[0..<count]).reduce(Float(0)) { max($0, abs($1.0 - $1.1)) }
                let (tb, tp, to) = (Yardstick.median(blasT), Yardstick.median(packT), Yardstick.median(oursT))
                out(String(format: "%@ %@ | %d | %.2f | %.2f | %.1f | %.2f | %.2f (%.2f) | %.1f (%.1f) | %.2f (%.2f) | %.1e",
                             forward ? "forward  H W^T" : "backward dG W", label, steps.count, flop / 1e9, tb * 1e3, flop / tb / 1e9,
                             tp * 1e3, to * 1e3, (to + tp) * 1e3, flop / to / 1e9, flop / (to + tp) / 1e9, tb / to, tb / (to + tp), diff))
            }
        }
    }
}
