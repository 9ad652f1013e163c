import CSCANKernels
import SCANCore
import TestSupport
import XCTest

/// The pack-once kernel against OpenBLAS on awkward shapes (tail rows, tail panels, tail k-blocks,
/// padded leading dimensions), in both of its builds.
final class PackedGemmTests: XCTestCase {
    /// The builds this CPU can run: baseline always, AVX2+FMA where the CPU has it.
    var builds: [Int32] {
        scan_force_vector_build(-1)
        return scan_vector_build() == 1 ? [0, 1] : [0]
    }

    override func tearDown() { scan_force_vector_build(-1) }

    /// Runs one product with both routes; returns the largest error over the tolerance's scale
    /// (a failure is > 1), and whether anything outside the m x n block of C changed.
    func compare(m: Int, n: Int, k: Int, trans: Bool, accumulate: Bool, rng: inout TestRNG) -> (Float, Bool) {
        let lda = k + rng.int(0...3), ldb = (trans ? k : n) + rng.int(0...3), ldc = n + rng.int(1...5)
        let a = (0..<(m * lda)).map { _ in rng.uniform(-1, 1) }
        let b = (0..<((trans ? n : k) * ldb)).map { _ in rng.uniform(-1, 1) }
        let c0 = (0..<(m * ldc)).map { _ in rng.uniform(-1, 1) }
        var packed = [Float](repeating: .nan, count: scan_packed_size(k, n))
        scan_pack_f32(b, ldb, trans ? 1 : 0, k, n, &packed)
        var ours = c0, reference = c0
        scan_gemm_packed_f32(m, n, k, a, lda, packed, accumulate ? 1 : 0, &ours, ldc)
        if k > 0 {
            a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in reference.withUnsafeMutableBufferPointer { pc in
                BLAS.sgemm(transB: trans, m: m, n: n, k: k, a: pa.baseAddress!, lda: lda, b: pb.baseAddress!, ldb: ldb,
                           beta: accumulate ? 1 : 0, c: pc.baseAddress!, ldc: ldc)
            }}}
        } else if !accumulate {
            for i in 0..<m { for j in 0..<n { reference[i * ldc + j] = 0 } }
        }
        var scale: Float = 0, worst: Float = 0, padding = false
        for i in 0..<m { for j in 0..<n { scale = max(scale, abs(reference[i * ldc + j])) } }
        for i in 0..<m {
            for j in 0..<ldc {
                if j >= n { padding = padding || ours[i * ldc + j].bitPattern != c0[i * ldc + j].bitPattern; continue }
                let e = abs(ours[i * ldc + j] - reference[i * ldc + j])
                worst = max(worst, e.isNaN ? .infinity : e / (1e-5 * (1 + scale)))
            }
        }
        return (worst, padding)
    }

    func testMatchesOpenBLASOnTailShapes() {
        let ms = Array(1...13) + [30, 150]
        let ns = [1, 15, 16, 17, 50, 3000]
        let ks = [0, 1, 5, 256, 300, 1030]
        for isa in builds {
            scan_force_vector_build(isa)
            XCTAssertEqual(scan_vector_build(), isa)
            var rng = TestRNG(seed: 11 + UInt64(isa))
            var cases = 0
            for m in ms {
                for n in ns {
                    for k in ks where n * k <= 1_000_000 {
                        // The large products once per (m, n) pair, with random trans/accumulate; the rest all four ways.
                        let big = m * n * k > 2_000_000
                        if big && rng.int(0...3) != 0 { continue }
                        for trans in [false, true] {
                            for accumulate in [false, true] where !big || rng.int(0...1) == 0 {
                                let (err, padding) = compare(m: m, n: n, k: k, trans: trans, accumulate: accumulate, rng: &rng)
                                XCTAssertLessThanOrEqual(err, 1, "isa \(isa) m \(m) n \(n) k \(k) trans \(trans) accumulate \(accumulate)")
                                XCTAssertFalse(padding, "isa \(isa) m \(m) n \(n) k \(k): C written outside its m x n block")
                                cases += 1
                            }
                        }
                    }
                }
            }
            XCTAssertGreaterThan(cases, 500)
        }
    }

    /// The GRU's own shapes: H (b x 1024) * W^T and dG (b x 3072) * W with W 3072 x 1024, b down to 1.
    func testGRUShapes() {
        var rng = TestRNG(seed: 5)
        for isa in builds {
            scan_force_vector_build(isa)
            for m in [128, 1] {
                let (fwd, p1) = compare(m: m, n: 3072, k: 1024, trans: true, accumulate: false, rng: &rng)
                let (bwd, p2) = compare(m: m, n: 1024, k: 3072, trans: false, accumulate: true, rng: &rng)
                XCTAssertLessThanOrEqual(fwd, 1, "isa \(isa) forward b \(m)")
                XCTAssertLessThanOrEqual(bwd, 1, "isa \(isa) backward b \(m)")
                XCTAssertFalse(p1 || p2)
            }
        }
    }

    /// ldc padding, and the rows after the last one, are never written (tail panels store through a
    /// temporary; full panels store whole vectors, which must stop at column n).
    func testNeverWritesOutsideTheBlock() {
        var rng = TestRNG(seed: 7)
        for isa in builds {
            scan_force_vector_build(isa)
            for (m, n, k) in [(1, 1, 3), (7, 17, 40), (13, 33, 257), (6, 16, 5), (8, 31, 300)] {
                let ldc = n + 9, rows = m + 2
                let a = (0..<(m * k)).map { _ in rng.uniform(-1, 1) }
                let b = (0..<(k * n)).map { _ in rng.uniform(-1, 1) }
                var packed = [Float](repeating: 0, count: scan_packed_size(k, n))
                scan_pack_f32(b, n, 0, k, n, &packed)
                for accumulate: Int32 in [0, 1] {
                    var c = [Float](repeating: 12345, count: rows * ldc)
                    scan_gemm_packed_f32(m, n, k, a, k, packed, accumulate, &c, ldc)
                    for i in 0..<rows {
                        for j in 0..<ldc where i >= m || j >= n {
                            XCTAssertEqual(c[i * ldc + j], 12345, "isa \(isa) m \(m) n \(n) k \(k): C[\(i), \(j)] written")
                        }
                    }
                }
            }
        }
    }
}
