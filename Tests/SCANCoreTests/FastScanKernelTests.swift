import CSCANKernels
import Foundation
import TestSupport
import XCTest

/// The fast-scan kernel (CSCANFastScan.h): the blocked 4-bit layout read back code by code, every
/// vector build equal to the scalar one bit for bit, the 8-bit table against a float dot product
/// computed by hand, and the heap against a full sort.
final class FastScanKernelTests: XCTestCase {
    /// Random codes for `n` images written through `scan_fs_encode` (values on the code grid, so the
    /// expected code of each is known without the encoder).
    private func codes(n: Int, dim: Int, rng: inout TestRNG) -> (codes: [UInt8], blocks: [UInt8]) {
        let pdim = scan_fs_padded_dim(dim)
        var c = [UInt8](repeating: 0, count: n * dim)
        var x = [Float](repeating: 0, count: n * dim)
        let lo = [Float](repeating: -1, count: dim), inv = [Float](repeating: 7.5, count: dim)
        for i in 0..<(n * dim) {
            c[i] = UInt8(rng.int(0..<16))
            // Code k stands for -1 + k / 7.5; a jitter under half a step must not change it.
            x[i] = -1 + Float(c[i]) / 7.5 + rng.uniform(-0.06, 0.06)
        }
        var blocks = [UInt8](repeating: 0, count: (n + 31) / 32 * scan_fs_block_bytes(pdim))
        // Two calls, the second starting inside a block: the nibbles of both must survive.
        let split = n / 3
        scan_fs_encode(x, split, dim, lo, inv, &blocks, 0)
        x.withUnsafeBufferPointer { scan_fs_encode($0.baseAddress! + split * dim, n - split, dim, lo, inv, &blocks, split) }
        return (c, blocks)
    }

    private func randomLUT(_ pdim: Int, rng: inout TestRNG) -> [UInt8] {
        (0..<(pdim * 16)).map { _ in UInt8(rng.int(0..<256)) }
    }

    func testLayoutRoundTripsAndClampsOutOfRange() {
        var rng = TestRNG(seed: 11)
        for dim in [1, 7, 256] {
            let n = 77
            let (c, blocks) = codes(n: n, dim: dim, rng: &rng)
            let pdim = scan_fs_padded_dim(dim)
            for i in 0..<n {
                for d in 0..<dim { XCTAssertEqual(scan_fs_code(blocks, pdim, i, d), c[i * dim + d], "image \(i) dim \(d)") }
                for d in dim..<pdim { XCTAssertEqual(scan_fs_code(blocks, pdim, i, d), 0) }
            }
        }
        var one = [UInt8](repeating: 0, count: scan_fs_block_bytes(4))
        scan_fs_encode([-5, 5, .nan, 0.5], 1, 4, [0, 0, 0, 0], [2, 2, 2, 2], &one, 17)
        XCTAssertEqual((0..<4).map { scan_fs_code(one, 4, 17, $0) }, [0, 10, 0, 1])
    }

    /// Every vector build gives the scalar build's integers, which are sum_d lut[d][code] computed
    /// here from the codes; partial last blocks included.
    func testVectorBuildsEqualScalarAndHandSum() {
        var rng = TestRNG(seed: 5)
        let builds = [Int32(SCAN_FS_SCALAR), Int32(SCAN_FS_AVX2), Int32(SCAN_FS_AVX512BW)].filter { scan_fs_isa_supported($0) == 1 }
        print("fast scan builds on this CPU: \(builds)")
        for (dim, n) in [(256, 1000), (8, 32), (12, 33), (260, 95)] {
            let pdim = scan_fs_padded_dim(dim)
            let (c, blocks) = codes(n: n, dim: dim, rng: &rng)
            // Entries small enough that no sum reaches 65536 (the table builder's guarantee).
            let lut = randomLUT(pdim, rng: &rng).map { $0 / UInt8(max(1, (pdim * 255 + 65534) / 65535)) }
            var expected = [UInt16](repeating: 0, count: n)
            for i in 0..<n {
                var s = 0
                for d in 0..<dim { s += Int(lut[d * 16 + Int(c[i * dim + d])]) }
                for d in dim..<pdim { s += Int(lut[d * 16]) }
                expected[i] = UInt16(s)
            }
            for isa in builds {
                var out = [UInt16](repeating: 0xFFFF, count: n + 5)
                scan_fs_scores(blocks, n, pdim, lut, isa, &out)
                XCTAssertEqual(Array(out[0..<n]), expected, "dim \(dim) n \(n) build \(isa)")
                XCTAssertEqual(Array(out[n...]), [UInt16](repeating: 0xFFFF, count: 5), "lanes past n are not written")
            }
        }
    }

    /// The 8-bit table ranks like q . dequantised(code) computed in float by hand: the integer over
    /// the scale plus the bias is within half a unit per dimension of it, and for 1024 dimensions
    /// (where 255 per dimension would overflow 16 bits) the sums still fit.
    func testQuantisedTableTracksTheFloatDotProduct() {
        var rng = TestRNG(seed: 9)
        for dim in [256, 1024] {
            let pdim = scan_fs_padded_dim(dim), n = 500
            let (c, blocks) = codes(n: n, dim: dim, rng: &rng)
            let q = rng.floats(dim)
            let lo = (0..<dim).map { _ in rng.uniform(-0.3, 0) }, step = (0..<dim).map { _ in rng.uniform(0.01, 0.04) }
            var table = [Float](repeating: 0, count: pdim * 16)
            for d in 0..<dim { for k in 0..<16 { table[d * 16 + k] = q[d] * (lo[d] + step[d] * Float(k)) } }
            var lut = [UInt8](repeating: 0, count: pdim * 16)
            var bias: Float = 0
            let scale = scan_fs_quantize_lut(table, pdim, &lut, &bias)
            XCTAssertGreaterThan(scale, 0)
            var maxSum = 0
            for d in 0..<pdim { maxSum += Int(lut[(d * 16)..<(d * 16 + 16)].max() ?? 0) }
            XCTAssertLessThanOrEqual(maxSum, 65535)
            if dim == 256 { XCTAssertEqual(lut.max(), 255, "at 256 dimensions the widest table uses the whole byte") }
            var out = [UInt16](repeating: 0, count: n)
            scan_fs_scores(blocks, n, pdim, lut, scan_fs_best_isa(), &out)
            var exact = [Double](repeating: 0, count: n)
            for i in 0..<n {
                for d in 0..<dim { exact[i] += Double(q[d]) * (Double(lo[d]) + Double(step[d]) * Double(c[i * dim + d])) }
            }
            let bound = 0.5 * Double(pdim) / Double(scale) + 1e-3
            for i in 0..<n { XCTAssertEqual(Double(out[i]) / Double(scale) + Double(bias), exact[i], accuracy: bound) }
            // Ranking: pairs farther apart than the bound twice keep their order.
            var checked = 0
            for i in 0..<n { for j in 0..<n where exact[i] - exact[j] > 2 * bound { XCTAssertGreaterThan(out[i], out[j]); checked += 1 } }
            XCTAssertGreaterThan(checked, n * n / 8, "the bound is small against the spread of the scores")
        }
    }

    /// The heap scan keeps exactly the best `capacity` scores (equal scores: lower id), leaves out
    /// excluded ids, and is the same for every build.
    func testHeapScanEqualsFullSortWithExclusions() {
        var rng = TestRNG(seed: 21)
        let dim = 64, pdim = scan_fs_padded_dim(dim), n = 5003
        let (_, blocks) = codes(n: n, dim: dim, rng: &rng)
        let lut = randomLUT(pdim, rng: &rng)
        var all = [UInt16](repeating: 0, count: n)
        scan_fs_scores(blocks, n, pdim, lut, Int32(SCAN_FS_SCALAR), &all)
        let firstID: UInt64 = 1000
        var excluded = Set<UInt64>()
        for _ in 0..<300 { excluded.insert(firstID + UInt64(rng.int(0..<n))) }
        // The 50 best ids are excluded too: the scan must reach past them.
        let order = (0..<n).sorted { all[$0] > all[$1] || (all[$0] == all[$1] && $0 < $1) }
        for i in order.prefix(50) { excluded.insert(firstID + UInt64(i)) }
        var bits = [UInt64](repeating: 0, count: (Int(firstID) + n + 63) / 64)
        for e in excluded { bits[Int(e / 64)] |= 1 << (e % 64) }
        let capacity = 200
        let expected = order.map { firstID + UInt64($0) }.filter { !excluded.contains($0) }.prefix(capacity)
        for isa in [Int32(SCAN_FS_SCALAR), Int32(SCAN_FS_AVX2), Int32(SCAN_FS_AVX512BW)] where scan_fs_isa_supported(isa) == 1 {
            var scores = [UInt16](repeating: 0, count: capacity), ids = [UInt64](repeating: 0, count: capacity)
            var got: [UInt64] = []
            scores.withUnsafeMutableBufferPointer { sp in
                ids.withUnsafeMutableBufferPointer { ip in
                    var heap = scan_fs_heap(scores: sp.baseAddress, ids: ip.baseAddress, capacity: capacity, count: 0)
                    // In two pieces, as two segments are scanned.
                    let cut = 32 * 70
                    blocks.withUnsafeBufferPointer { bp in
                        scan_fs_scan(bp.baseAddress, cut, pdim, lut, isa, firstID, bits, bits.count, &heap)
                        scan_fs_scan(bp.baseAddress! + (cut / 32) * scan_fs_block_bytes(pdim), n - cut, pdim, lut, isa, firstID + UInt64(cut), bits, bits.count, &heap)
                    }
                    got = (0..<heap.count).map { ip[$0] }
                }
            }
            let score = { (id: UInt64) in all[Int(id - firstID)] }
            got.sort { score($0) > score($1) || (score($0) == score($1) && $0 < $1) }
            XCTAssertEqual(got, Array(expected), "build \(isa)")
        }
    }
}
