import Foundation
import SCANBenchmarks
import SCANSearch
import TestSupport
import XCTest

/// The compact first stage: 4-bit codes, the rescored shortlist, recall of the float32 prefilter's
/// top K, and images committed later becoming searchable without a rebuild.
final class CompactPrefilterTests: XCTestCase {
    /// Codes worked by hand: dim 3 (padded to 4: two bytes), ranges from the 0.1%/99.9% quantiles.
    func testCodesAreUniformPerDimensionAndClamped() {
        let cp = CompactPrefilter(dim: 3)
        // Dimension 0 spans 0...1.5 over the rows, dimension 1 spans -3...0, dimension 2 is constant.
        var rows: [Float] = []
        for i in 0...15 { rows += [Float(i) * 0.1, -Float(i) * 0.2, 7] }
        cp.append(rows: rows)
        XCTAssertEqual(cp.count, 16)
        XCTAssertEqual(cp.bytesPerImage, 2)
        // Row i: dim0 code i, dim1 code 15 - i, dim2 code 0. The query (1, 0, 0) orders rows by dim 0;
        // (0, 1, 0) by dim 1 (row 0 first); scores are exactly proportional to the codes.
        let a = cp.approximateScores([1, 0, 0], rows: 16)
        XCTAssertEqual(a.indices.sorted { a[$0] > a[$1] }, Array((0...15).reversed()))
        XCTAssertEqual(a[15] / a[1], 15, accuracy: 1e-3)
        let b = cp.approximateScores([0, 1, 0], rows: 16)
        XCTAssertEqual(b.indices.sorted { b[$0] > b[$1] }, Array(0...15))
        // A value beyond the calibrated range is clamped to the last code.
        cp.append(rows: [100, -100, 7])
        let c = cp.approximateScores([1, 0, 0], rows: 17)
        XCTAssertEqual(c[16], c[15])
    }

    /// 20,000 generated unit vectors of dim 256 stored in an index: the compact first stage's K best
    /// hold at least 99% of the float32 scan's K best, with the float32 scores.
    func testRecallOfTheFloat32TopKAndExactScores() throws {
        let dir = makeTempDir(self)
        let (x, queries) = FirstStageBenchmark.generate(size: 20_000, dim: 256, queries: 30, seed: 3)
        try FirstStageBenchmark.write(x, dim: 256, to: dir + "/index")
        let reader = try IndexReader(path: dir + "/index")
        let s = try reader.snapshot()
        defer { s.close() }
        let cp = CompactPrefilter(dim: 256)
        try cp.extend(from: s)
        XCTAssertEqual(cp.count, 20_000)
        XCTAssertEqual(cp.residentBytes, 20_000 * 128)
        let f32 = ResidentPrefilter(dim: 256, storage: .float32)
        try f32.extend(from: s)
        for k in [100, 1000] {
            var found = 0
            for q in queries {
                let full = f32.scores(q, rows: 20_000)
                let truth = Set(TopK.select(full, k: k).map { UInt64($0) })
                let got = try cp.candidates(q, k: k, snapshot: s)
                XCTAssertEqual(got.keys.count, k)
                for (key, score) in zip(got.keys, got.scores) { XCTAssertEqual(score, full[Int(key)]) }
                found += truth.intersection(got.keys).count
            }
            let recall = Double(found) / Double(k * queries.count)
            print(String(format: "compact first stage, 20000 x 256, K = %d: recall of the float32 top K %.4f", k, recall))
            XCTAssertGreaterThanOrEqual(recall, 0.99)
        }
    }

    /// Images committed after the searcher opened are found by the next search (no rebuild), and
    /// the compact first stage finds what the float32 one finds on the search world.
    func testCommittedImagesAreSearchableAtTheNextCommit() throws {
        let world = SearchWorld.shared
        let tmp = makeTempDir(self)
        let all = try NPY.read(world.testImages)
        let per = all.rowStride
        try NPY.write(Tensor(shape: [100] + Array(all.shape.dropFirst()), data: Array(all.data[0..<(100 * per)])), to: tmp + "/a_ims.npy")
        try NPY.write(Tensor(shape: [300] + Array(all.shape.dropFirst()), data: Array(all.data[(100 * per)...])), to: tmp + "/b_ims.npy")
        try ((100..<400).map { "\($0)" }.joined(separator: "\n") + "\n").write(toFile: tmp + "/b_ids.txt", atomically: true, encoding: .utf8)
        var o = BuildOptions(); o.showProgress = false
        _ = try IndexBuilder.build(index: tmp + "/index", modelDirectory: world.modelFitted, source: try PrecompFeatureSource(imagesPath: tmp + "/a_ims.npy"), options: o)
        let compact = try Searcher(index: tmp + "/index")
        XCTAssertEqual(compact.firstStage, .compact)
        XCTAssertEqual(compact.firstStageCount, 100)
        _ = try IndexBuilder.add(index: tmp + "/index", source: try PrecompFeatureSource(imagesPath: tmp + "/b_ims.npy", idsPath: tmp + "/b_ids.txt"), options: o)
        let float32 = try Searcher(index: tmp + "/index", firstStage: .float32)
        for q in try world.queries().prefix(40) {
            let a = try compact.search(query: q.caption, top: 10, candidates: 20)
            let b = try float32.search(query: q.caption, top: 10, candidates: 20)
            XCTAssertEqual(a.map(\.id), b.map(\.id), q.caption)
            XCTAssertEqual(a.map(\.prefilterScore), b.map(\.prefilterScore))
        }
        XCTAssertEqual(compact.firstStageCount, 400)
        XCTAssertEqual(compact.firstStageBytesPerImage, 8)
    }
}
