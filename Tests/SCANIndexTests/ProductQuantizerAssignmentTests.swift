import SCANIndex
import TestSupport
import XCTest

/// The nearest-centroid kernel of product quantisation: every path (portable, AVX2, AVX-512, the
/// first kernel's row-by-row loop) gives the codes of a naive Swift reference written here from the
/// definition, on random data, on data full of exact ties, on magnitudes that overflow, across
/// the kernel's row blocks, and whatever rows a vector is encoded with.
final class ProductQuantizerAssignmentTests: XCTestCase {
    /// The definition: d[c] = ||c||^2 (summed in order, unfused, as the codebook's init does), then
    /// d[c] += -2 x[j] c[j] fused, j in order; the code is the first c of the least d (a NaN at c = 0
    /// keeps 0, later NaNs never win: a sequential strict-less scan).
    static func referenceCodes(_ x: [Float], rows: Int, pq: ProductQuantizer) -> [UInt8] {
        let m = pq.subspaces, d = pq.subDim, n = pq.centroidCount, dim = pq.dim
        var out = [UInt8](repeating: 0, count: rows * m)
        for r in 0..<rows {
            for s in 0..<m {
                var best = 0
                var bestD: Float = 0
                for c in 0..<n {
                    var norm: Float = 0
                    for j in 0..<d { let v = pq.centroids[(s * n + c) * d + j]; norm += v * v }
                    var dist = norm
                    for j in 0..<d { dist = dist.addingProduct(-2 * x[r * dim + s * d + j], pq.centroids[(s * n + c) * d + j]) }
                    if c == 0 { bestD = dist } else if dist < bestD { bestD = dist; best = c }
                }
                out[r * m + s] = UInt8(best)
            }
        }
        return out
    }

    static func codes(_ pq: ProductQuantizer, _ x: [Float], rows: Int, path: ProductQuantizerAssignmentPath? = nil) -> [UInt8]? {
        var out = [UInt8](repeating: 0xEE, count: rows * pq.codeBytes)
        let ok = x.withUnsafeBufferPointer { xp in
            out.withUnsafeMutableBufferPointer { op in
                guard let path else { pq.encode(xp.baseAddress!, rows: rows, into: op.baseAddress!); return true }
                return pq.encode(xp.baseAddress!, rows: rows, into: op.baseAddress!, path: path)
            }
        }
        return ok ? out : nil
    }

    enum Data: CaseIterable { case uniform, smallIntegers, duplicateCentroids, hugeValues }

    func testEveryPathEqualsTheReferenceOnRandomDataTiesAndOverflow() throws {
        var rng = TestRNG(seed: 11)
        // (dim, subDim, centroids, rows): the default pq4 shape, centroid counts that are and are not
        // multiples of the vector widths (1, 3, 17, 100, 255), row counts across the 64-row block and
        // the 4-row micro kernel (1, 3, 5, 65, 130).
        let shapes = [(1024, 4, 256, 37), (64, 4, 256, 130), (64, 4, 17, 65), (64, 8, 256, 5), (48, 16, 100, 3),
                      (96, 32, 255, 5), (8, 1, 3, 130), (12, 4, 1, 7), (40, 4, 33, 66), (32, 2, 256, 1), (16, 4, 16, 9)]
        var compared = 0
        for (dim, sub, n, rows) in shapes {
            for data in Data.allCases {
                let m = dim / sub
                var cb = [Float](repeating: 0, count: m * n * sub)
                for i in cb.indices {
                    cb[i] = data == .uniform || data == .hugeValues ? rng.float() : Float(rng.int(-1...1))
                }
                if data == .duplicateCentroids && n > 1 {
                    // Centroid k + 1 repeats centroid k for every even k: equal distances everywhere.
                    for s in 0..<m { for k in stride(from: 0, to: n - 1, by: 2) { for j in 0..<sub { cb[(s * n + k + 1) * sub + j] = cb[(s * n + k) * sub + j] } } }
                }
                var x = [Float](repeating: 0, count: rows * dim)
                for i in x.indices {
                    switch data {
                    case .uniform: x[i] = rng.float()
                    case .smallIntegers, .duplicateCentroids: x[i] = Float(rng.int(-2...2))
                    case .hugeValues: x[i] = rng.int(0..<40) == 0 ? rng.float() * 3e38 : rng.float() * 1e20
                    }
                }
                let pq = try ProductQuantizer(dim: dim, subDim: sub, centroidCount: n, centroids: cb)
                let expected = Self.referenceCodes(x, rows: rows, pq: pq)
                XCTAssertEqual(Self.codes(pq, x, rows: rows), expected, "encode, shape \(dim)/\(sub)/\(n)/\(rows), \(data)")
                for path in ProductQuantizerAssignmentPath.allCases where path.isAvailable {
                    XCTAssertEqual(Self.codes(pq, x, rows: rows, path: path), expected, "\(path), shape \(dim)/\(sub)/\(n)/\(rows), \(data)")
                    compared += 1
                }
                if data == .smallIntegers || data == .duplicateCentroids {
                    // The data must hold ties, or the test of the tie rule proves nothing.
                    XCTAssertTrue(expected.contains(where: { $0 > 0 }) || n == 1)
                }
            }
        }
        print("pq assignment: \(compared) path x shape x data comparisons, fastest path \(ProductQuantizerAssignmentPath.fastest)")
    }

    /// Equal distances, worked by hand: x = 0 is at distance ||c||^2 from every centroid, and
    /// centroids 1, 2 and 5 all have norm 1 (the least); the first of them, 1, is the code. At
    /// x = (1, 0, 0, 0) centroid 3 is an exact copy of centroid 6 and nearer than all others: 3.
    func testTiesGoToTheLowestCentroidWorkedByHand() throws {
        let centroids: [[Float]] = [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, -1, 0], [1, 0, 0, 0.5], [0, 0, 0, 3],
                                    [0, 0, 0, -1], [1, 0, 0, 0.5], [5, 5, 5, 5]]
        // 16 centroids so that the vector paths run (the rest far away).
        let all = centroids + (0..<8).map { _ in [Float](repeating: 9, count: 4) }
        let pq = try ProductQuantizer(dim: 4, subDim: 4, centroidCount: 16, centroids: all.flatMap { $0 })
        let x: [Float] = [0, 0, 0, 0, 1, 0, 0, 0]
        for path in ProductQuantizerAssignmentPath.allCases where path.isAvailable {
            XCTAssertEqual(Self.codes(pq, x, rows: 2, path: path), [1, 3], "\(path)")
        }
    }

    /// A vector's code does not depend on the rows encoded with it: each of 150 rows encoded alone,
    /// in batches of every size from 1 to 70, and all at once, gives the same bytes.
    func testCodesDoNotDependOnTheBatch() throws {
        var rng = TestRNG(seed: 12)
        let dim = 64, rows = 150
        let pq = try ProductQuantizer(dim: dim, subDim: 4, centroidCount: 256, centroids: rng.floats(dim * 256))
        let x = rng.floats(rows * dim)
        guard let whole = Self.codes(pq, x, rows: rows) else { return XCTFail("encode") }
        for batch in 1...70 {
            var joined: [UInt8] = []
            for start in stride(from: 0, to: rows, by: batch) {
                let n = min(batch, rows - start)
                joined += Self.codes(pq, Array(x[(start * dim)..<((start + n) * dim)]), rows: n) ?? []
            }
            XCTAssertEqual(joined, whole, "batches of \(batch)")
        }
    }
}
