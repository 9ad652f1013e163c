import SCANIndex
import TestSupport
import XCTest

/// Decoding of product-quantisation codes (the C kernel) against the definition written here: row r
/// is the concatenation of each sub-space's centroid named by its code; a code past the codebook is
/// refused.
final class ProductQuantizerDecodeTests: XCTestCase {
    func testDecodeIsTheConcatenationOfTheNamedCentroids() throws {
        var rng = TestRNG(seed: 3)
        for (dim, subDim, centroids) in [(64, 4, 256), (64, 8, 17), (48, 16, 5), (30, 3, 7), (12, 12, 2)] {
            let pq = try ProductQuantizer(dim: dim, subDim: subDim, centroidCount: centroids,
                                          centroids: (0..<(dim * centroids)).map { _ in rng.uniform(-1, 1) })
            let rows = 9
            let codes = (0..<(rows * pq.subspaces)).map { _ in UInt8(Int(rng.next() % UInt64(centroids))) }
            var expected = [Float](repeating: 0, count: rows * dim)
            for r in 0..<rows {
                for m in 0..<pq.subspaces {
                    let c = Int(codes[r * pq.subspaces + m])
                    for j in 0..<subDim { expected[r * dim + m * subDim + j] = pq.centroids[(m * centroids + c) * subDim + j] }
                }
            }
            var got = [Float](repeating: .nan, count: rows * dim)
            let ok = codes.withUnsafeBufferPointer { c in got.withUnsafeMutableBufferPointer { pq.decode(c.baseAddress!, rows: rows, into: $0.baseAddress!) } }
            XCTAssertTrue(ok)
            XCTAssertEqual(got, expected, "dim \(dim), sub_dim \(subDim), \(centroids) centroids")
        }
    }

    func testACodePastTheCodebookIsRefused() throws {
        let pq = try ProductQuantizer(dim: 8, subDim: 4, centroidCount: 3, centroids: (0..<24).map(Float.init))
        for bad in [UInt8(3), 255] {
            var codes: [UInt8] = [0, 1, 2, 2, 1, bad]
            var out = [Float](repeating: 0, count: 3 * 8)
            let ok = codes.withUnsafeMutableBufferPointer { c in out.withUnsafeMutableBufferPointer { pq.decode(c.baseAddress!, rows: 3, into: $0.baseAddress!) } }
            XCTAssertFalse(ok, "code \(bad) of 3 centroids")
        }
    }
}
