import CSCANKernels
import Foundation
import TestSupport
import XCTest

/// The fast-scan kernel (CSCANFastScan.h): the blocked 4-bit layout read back code by code, every
/// vector build equal to the scalar one bit for bit, the 8-bit table against a float dot product
/// computed by hand, and the reservoir's shortlist against a full sort.
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

    /// The best `size` ids of `firstID ..< firstID + all.count` by score (descending, then id
    /// ascending), none excluded: the reference every shortlist must equal, from a full sort.
    private func reference(_ all: [UInt16], firstID: UInt64, excluded: Set<UInt64>, size: Int) -> [UInt64] {
        let order = all.indices.sorted { all[$0] > all[$1] || (all[$0] == all[$1] && $0 < $1) }
        return Array(order.map { firstID + UInt64($0) }.filter { !excluded.contains($0) }.prefix(size))
    }

    /// Scans `pieces` (image ranges starting on a block boundary) in the given order, piece i into
    /// reservoir parts[i], then merges: the ids the kernel returns, best first, and whether any
    /// reservoir compacted (so the threshold path was taken).
    private func shortlist(_ blocks: [UInt8], pdim: Int, lut: [UInt8], isa: Int32, firstID: UInt64, bits: [UInt64], size: Int,
                           pieces: [(range: Range<Int>, part: Int)]) -> (ids: [UInt64], compacted: Bool) {
        let parts = (pieces.map(\.part).max() ?? 0) + 1
        var keys = [UInt64](repeating: 0, count: parts * 2 * size)
        var res = [scan_fs_reservoir](repeating: scan_fs_reservoir(), count: parts)
        var compacted = false
        let found = keys.withUnsafeMutableBufferPointer { kp in
            res.withUnsafeMutableBufferPointer { rp in
                blocks.withUnsafeBufferPointer { bp in
                    for p in 0..<parts { scan_fs_reservoir_init(rp.baseAddress! + p, kp.baseAddress! + p * 2 * size, size) }
                    for (range, part) in pieces {
                        precondition(range.lowerBound % 32 == 0)
                        scan_fs_scan(bp.baseAddress! + range.lowerBound / 32 * scan_fs_block_bytes(pdim), range.count, pdim, lut, isa,
                                     firstID + UInt64(range.lowerBound), bits, bits.count, rp.baseAddress! + part)
                    }
                    compacted = rp.contains { $0.compacted != 0 }
                    return scan_fs_reservoir_merge_sorted(rp.baseAddress!, parts)
                }
            }
        }
        return (keys[0..<found].map { scan_fs_key_id($0) }, compacted)
    }

    /// The reservoir keeps exactly the best `size` scores (equal scores: lower id), best first,
    /// leaves out excluded ids, and gives the same for every build, however the images are split
    /// over calls and reservoirs: few distinct scores (ties at the threshold), many compactions
    /// (n far above 2 x size), size 1, size above n, and pieces offered out of id order (where an
    /// equal score can beat the threshold and must not be cut by the vector compare).
    func testReservoirScanEqualsFullSortWithTiesAndExclusions() {
        var rng = TestRNG(seed: 21)
        let dim = 64, pdim = scan_fs_padded_dim(dim), n = 5003
        let (_, blocks) = codes(n: n, dim: dim, rng: &rng)
        // Wide tables spread the scores; narrow ones (entries 0 or 1) leave about 40 distinct scores
        // for 5003 images, so hundreds share the threshold's score.
        let tables = [("wide", randomLUT(pdim, rng: &rng)), ("ties", randomLUT(pdim, rng: &rng).map { $0 & 1 })]
        let firstID: UInt64 = 1000
        let builds = [Int32(SCAN_FS_SCALAR), Int32(SCAN_FS_AVX2), Int32(SCAN_FS_AVX512BW)].filter { scan_fs_isa_supported($0) == 1 }
        let cut = 32 * 70
        let splits: [(String, [(range: Range<Int>, part: Int)])] = [
            ("one call", [(0..<n, 0)]),
            ("two calls", [(0..<cut, 0), (cut..<n, 0)]),
            ("out of order", [(cut..<n, 0), (0..<cut, 0)]),
            ("two reservoirs", [(0..<cut, 0), (cut..<n, 1)]),
        ]
        for (name, lut) in tables {
            var all = [UInt16](repeating: 0, count: n)
            scan_fs_scores(blocks, n, pdim, lut, Int32(SCAN_FS_SCALAR), &all)
            if name == "ties" { XCTAssertLessThan(Set(all).count, 100, "the narrow table makes ties") }
            for withExclusions in [false, true] {
                var excluded = Set<UInt64>()
                if withExclusions {
                    for _ in 0..<300 { excluded.insert(firstID + UInt64(rng.int(0..<n))) }
                    // The 50 best are excluded too: the scan must reach past them.
                    excluded.formUnion(reference(all, firstID: firstID, excluded: [], size: 50))
                }
                var bits = [UInt64](repeating: 0, count: (Int(firstID) + n + 63) / 64)
                for e in excluded { bits[Int(e / 64)] |= 1 << (e % 64) }
                for size in [1, 37, 200, n - 1, n + 50] {
                    let expected = reference(all, firstID: firstID, excluded: excluded, size: size)
                    XCTAssertEqual(expected.count, min(size, n - excluded.count))
                    if name == "ties" && size == 200 {
                        let t = all[Int(expected[size - 1] - firstID)]
                        XCTAssertGreaterThan(all.filter { $0 == t }.count, 50, "many images share the threshold's score")
                    }
                    for isa in builds {
                        for (split, pieces) in splits {
                            let got = shortlist(blocks, pdim: pdim, lut: lut, isa: isa, firstID: firstID, bits: bits, size: size, pieces: pieces)
                            XCTAssertEqual(got.ids, expected, "\(name) table, exclusions \(withExclusions), size \(size), build \(isa), \(split)")
                            if size <= 200 { XCTAssertTrue(got.compacted, "n >> 2 x size compacts") }
                        }
                    }
                }
            }
        }
    }

    /// The packed key ranks like (score descending, id ascending) and gives the id back.
    func testPackedKeyOrder() {
        let maxID = (UInt64(1) << 48) - 1
        XCTAssertGreaterThan(scan_fs_key(5, 10), scan_fs_key(5, 11))
        XCTAssertGreaterThan(scan_fs_key(6, maxID), scan_fs_key(5, 0))
        XCTAssertEqual(scan_fs_key_id(scan_fs_key(65535, maxID)), maxID)
        XCTAssertEqual(scan_fs_key_score(scan_fs_key(65535, 0)), 65535)
        XCTAssertEqual(scan_fs_key_id(scan_fs_key(0, 123_456_789)), 123_456_789)
    }
}
